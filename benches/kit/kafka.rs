//! Item 4, Kafka: the corpus's topics created from nothing (`migrate kafka`), then a reconcile
//! with nothing to change, with the number of admin requests each sent (the migrator logs it as
//! `admin_requests` in the kafka target's summary event). The same on a build with 50 topics
//! shows whether the count grows with the topics. Every figure is taken on both of the stack's
//! brokers, Tansu and noida-db.

use std::path::Path;
use std::time::Duration;

use crate::context::Context;
use crate::report::{median, ms};
use crate::stack::ServerAddresses;

/// The topic count of the second build, to show the request count does not grow with it.
const FEW_TOPICS: usize = 50;

struct Figures {
    create: Vec<Duration>,
    reconcile: Vec<Duration>,
    create_requests: u64,
    reconcile_requests: u64,
}

pub fn measure(context: &mut Context) {
    let full = context.corpus.topics;
    let few = FEW_TOPICS.min(full);
    context.corpus.write_topics(few);
    context.corpus.build();
    let few_binary = context.corpus.keep_binary(&format!("migrator-topics{few}"));
    context.corpus.write_topics(full);

    let brokers = [("tansu", context.stack.kafka_address.clone()), ("noida-db", context.stack.kafka2_address.clone())];
    for (broker, address) in brokers {
        let many = run(context, &address, &context.migrator.clone(), full);
        let some = run(context, &address, &few_binary, few);
        report(context, broker, full, few, &many, &some);
    }
}

fn report(context: &mut Context, broker: &str, full: usize, few: usize, many: &Figures, some: &Figures) {
    let report = &mut context.report;
    report.value(
        &format!("4. kafka ({broker}): {full} topics created from nothing"),
        ms(median(&many.create)),
        "reported",
        None,
    );
    report.value(
        &format!("4. kafka ({broker}): {full} topics reconciled, nothing differs"),
        ms(median(&many.reconcile)),
        "reported",
        None,
    );
    report.value(
        &format!("4. kafka ({broker}): {few} topics created from nothing"),
        ms(median(&some.create)),
        "reported",
        None,
    );
    let constant = many.create_requests == some.create_requests && many.reconcile_requests == some.reconcile_requests;
    report.value(
        &format!("4. kafka ({broker}) admin requests, create / reconcile: {full} topics vs {few} topics"),
        format!(
            "{} / {} vs {} / {}",
            many.create_requests, many.reconcile_requests, some.create_requests, some.reconcile_requests
        ),
        "constant",
        Some(constant),
    );
}

/// `runs` times on the broker at `address`: delete the topics, create them with `binary`,
/// reconcile.
fn run(context: &Context, address: &str, binary: &Path, topics: usize) -> Figures {
    let names = context.corpus.topic_names();
    let lock_database = context.runtime.block_on(context.stack.fresh_postgres("kafka"));
    let servers = ServerAddresses { kafka: address.to_owned(), ..context.stack.direct() };
    let env = context.stack.env(&servers, &lock_database.name, "unused");
    let mut figures = Figures { create: Vec::new(), reconcile: Vec::new(), create_requests: 0, reconcile_requests: 0 };
    for run in 0..context.sizes.runs {
        context.runtime.block_on(context.stack.delete_topics_at(address, &names));
        let created = context.migrator(binary, &env, &["migrate", "kafka"], &format!("kafka_{topics}_create_{run}"));
        figures.create.push(created.wall);
        figures.create_requests = admin_requests(&created.stderr(), "kafka_migrator.applied");
        let reconciled =
            context.migrator(binary, &env, &["migrate", "kafka"], &format!("kafka_{topics}_reconcile_{run}"));
        figures.reconcile.push(reconciled.wall);
        figures.reconcile_requests = admin_requests(&reconciled.stderr(), "kafka_migrator.up_to_date");
    }
    context.runtime.block_on(context.stack.delete_topics_at(address, &names));
    figures
}

/// `admin_requests` of the JSON log line whose `event` is `event`.
pub fn admin_requests(log: &str, event: &str) -> u64 {
    log.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| line["event"] == event)
        .and_then(|line| line["admin_requests"].as_u64())
        .unwrap_or_else(|| panic!("no `{event}` event with admin_requests in the migrator's log"))
}
