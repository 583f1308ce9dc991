//! Item 2, up to date: `migrate` (all four targets) with nothing pending, whole process, against
//! the floor of one connection and one trivial query per target, summed over the four (so
//! PostgreSQL twice, for the postgres and the indicators targets); then, through one counting
//! proxy per server, the round trips each target makes beyond the floor's, with the requests
//! kept in `target/bench/logs/round_trips_<target>.txt` so a surplus can be read.
//!
//! The run lock is not a target: every run that changes a server holds it, on PostgreSQL, on the
//! first two connections the run opens (the health check's, which the lock takes over, and a
//! short second one that proves no transaction pooler sits in between). Its round trips are
//! reported on their own row and left out of the postgres and indicators targets' counts.
//!
//! Kafka here is the stack's second broker, noida-db, which like Kafka describes only the config
//! keys it is asked for; Tansu cannot, and costs one more DescribeConfigs (item 4 reports both).

use std::fmt::Write as _;

use crate::context::Context;
use crate::kafka::admin_requests;
use crate::proxy::{Proxy, Traffic};
use crate::stack::ServerAddresses;

/// Each target and the server its floor queries.
const TARGETS: [(&str, &str); 4] =
    [("postgres", "postgres"), ("clickhouse", "clickhouse"), ("kafka", "kafka"), ("indicators", "postgres")];

pub fn measure(context: &mut Context) {
    let servers = ServerAddresses { kafka: context.stack.kafka2_address.clone(), ..context.stack.direct() };
    let database = context.runtime.block_on(context.stack.fresh_postgres("uptodate"));
    let clickhouse = context.stack.fresh_clickhouse("uptodate");
    let env = context.stack.env(&servers, &database.name, &clickhouse);
    context.migrator(&context.migrator, &env, &["migrate"], "up_to_date_setup");

    let (mut migrator, mut floor) = (Vec::new(), Vec::new());
    let mut kafka_requests = 0;
    for run in 0..context.sizes.runs {
        let outcome = context.migrator(&context.migrator, &env, &["migrate"], &format!("up_to_date_{run}"));
        kafka_requests = admin_requests(&outcome.stderr(), "kafka_migrator.up_to_date");
        migrator.push(outcome.wall);
        let all = ["query", "postgres", "clickhouse", "kafka", "postgres"];
        floor.push(context.floor(&env, &all, &format!("up_to_date_floor_{run}")).wall);
    }
    context.report.compare(
        "2. up to date: migrate, all four targets, nothing pending",
        &migrator,
        "1 connection + 1 query per target",
        &floor,
        Some(1.5),
    );
    count_round_trips(context, &database.name, &clickhouse);
    context.report.value(
        "2. kafka admin requests of that migrate (its own count; the floor sends 1 Metadata)",
        kafka_requests.to_string(),
        "≤ 2",
        Some(kafka_requests <= 2),
    );
    context.runtime.block_on(context.stack.delete_topics(&context.corpus.topic_names()));
}

/// The run lock's connections, first in every run that holds it (see the module doc).
const LOCK_CONNECTIONS: usize = 2;

/// Runs `migrate <target>` and the floor of its server through proxies, one target at a time.
fn count_round_trips(context: &mut Context, database: &str, clickhouse: &str) {
    let handle = context.runtime.handle().clone();
    let proxies = [
        ("postgres", Proxy::start(&handle, &context.stack.postgres_address)),
        ("clickhouse", Proxy::start(&handle, &context.stack.clickhouse_address)),
        ("kafka", Proxy::start(&handle, &context.stack.kafka2_address)),
    ];
    let through = ServerAddresses {
        postgres: proxies[0].1.address().to_string(),
        clickhouse: proxies[1].1.address().to_string(),
        kafka: proxies[2].1.address().to_string(),
    };
    let env = context.stack.env(&through, database, clickhouse);
    for (target, server) in TARGETS {
        let proxy = &proxies.iter().find(|(name, _)| *name == server).expect("a proxy per server").1;
        proxy.take();
        context.migrator(&context.migrator, &env, &["migrate", target], &format!("round_trips_{target}"));
        let mut migrator = proxy.take();
        context.floor(&env, &["query", server], &format!("round_trips_floor_{target}"));
        let floor = proxy.take();
        write_requests(context, target, &migrator, &floor);
        if server == "postgres" {
            let held = LOCK_CONNECTIONS.min(migrator.per_connection.len());
            let lock: Vec<usize> = migrator.per_connection.drain(..held).collect();
            let lock_round_trips: usize = lock.iter().sum();
            context.report.value(
                &format!(
                    "2. run lock of `migrate {target}` (PostgreSQL, once per run; round trips on its 2 connections)"
                ),
                format!("{lock_round_trips} ({lock:?} by connection)"),
                "reported",
                None,
            );
            migrator.round_trips -= lock_round_trips;
            migrator.connections -= held;
        }
        let beyond = migrator.round_trips as i64 - floor.round_trips as i64;
        context.report.value(
            &format!("2. round trips beyond the floor: {target} ({server} proxy; connections migrator/floor)"),
            format!(
                "{beyond} ({} vs {}; {}/{})",
                migrator.round_trips, floor.round_trips, migrator.connections, floor.connections
            ),
            "≤ 1",
            Some(beyond <= 1),
        );
    }
}

fn write_requests(context: &Context, target: &str, migrator: &Traffic, floor: &Traffic) {
    let mut text = format!("# migrate {target}: {} round trips\n", migrator.round_trips);
    for request in &migrator.requests {
        let _ = writeln!(text, "{request}");
    }
    let _ = writeln!(text, "\n# floor: {} round trips", floor.round_trips);
    for request in &floor.requests {
        let _ = writeln!(text, "{request}");
    }
    let path = context.logs.join(format!("round_trips_{target}.txt"));
    std::fs::write(path, text).expect("write the round-trip log");
}
