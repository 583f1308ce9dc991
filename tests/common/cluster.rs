//! The ClickHouse cluster of `scripts/stack` (one shard, two replicas `ch1` and `ch2`, and
//! ZooKeeper): the stack's shared one (`TFM_STACK_CLUSTER_URL_1`/`_2` from
//! `eval "$(scripts/stack env)"`, started by `TFM_STACK_CLUSTER=1 scripts/stack up`), or a private
//! one for a test that stops a node ([`PrivateCluster`]), started by the same script with a
//! stack folder and ports of its own, so that the configuration under test is the stack's.

use std::path::PathBuf;
use std::process::Command;

use clickhouse::Client;

/// The stack's defaults (`scripts/stack`), when the environment does not name the cluster.
const DEFAULT_URLS: [&str; 2] = ["http://127.0.0.1:58124", "http://127.0.0.1:58125"];
const DEFAULT_NAME: &str = "tfm_cluster";

/// A cluster's two nodes, addressed by HTTP.
pub struct Cluster {
    pub name: String,
    pub urls: [String; 2],
}

impl Cluster {
    /// The stack's shared cluster.
    pub fn shared() -> Cluster {
        let url = |index: usize| {
            std::env::var(format!("TFM_STACK_CLUSTER_URL_{}", index + 1))
                .unwrap_or_else(|_| DEFAULT_URLS[index].to_owned())
        };
        Cluster {
            name: std::env::var("TFM_STACK_CLUSTER_NAME").unwrap_or_else(|_| DEFAULT_NAME.to_owned()),
            urls: [url(0), url(1)],
        }
    }

    /// A client of node `1` or `2`, without a database (18.16 needs no validation).
    pub fn node(&self, node: usize) -> Client {
        Client::default().with_url(self.urls[node - 1].as_str()).with_user("default").with_validation(false)
    }

    /// Runs `sql` on `node`; the error as text (it holds the server's `Code: N`).
    pub async fn execute(&self, node: usize, sql: &str) -> Result<(), String> {
        // wait_end_of_query: the server buffers the whole answer, so an error raised after the
        // first rows (a distributed DDL's per-host lines) still comes back as an HTTP error.
        self.node(node)
            .query(sql)
            .with_setting("wait_end_of_query", "1")
            .execute()
            .await
            .map_err(|error| error.to_string())
    }

    /// [`Cluster::execute`], failing the test with the statement and the error.
    pub async fn run(&self, node: usize, sql: &str) {
        if let Err(error) = self.execute(node, sql).await {
            panic!("node {node} ({}): `{sql}`: {error}\n{}", self.urls[node - 1], HOW_TO_START);
        }
    }

    /// A database that does not exist yet on either node, created `ON CLUSTER`, dropped the
    /// same way when the test ends.
    pub async fn database(&self) -> ClusterDatabase<'_> {
        let name = super::unique_name("tfm_cluster_test");
        let create = format!("CREATE DATABASE {name} ON CLUSTER '{{cluster}}'");
        self.run(1, &create).await;
        ClusterDatabase { cluster: self, name }
    }
}

const HOW_TO_START: &str = "(the cluster runs with `TFM_STACK_CLUSTER=1 scripts/stack up`, then \
                            `eval \"$(scripts/stack env)\"`; `scripts/stack logs` shows its logs)";

/// A database of one test on both nodes.
pub struct ClusterDatabase<'a> {
    cluster: &'a Cluster,
    pub name: String,
}

impl Drop for ClusterDatabase<'_> {
    /// Dropped on a thread of its own (`Drop` cannot await); with a short timeout, since a
    /// test may end with a node down: the node drops it when it comes back (a private cluster
    /// is deleted anyway).
    fn drop(&mut self) {
        let urls = self.cluster.urls.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                Client::default()
                    .with_url(urls[0].as_str())
                    .with_validation(false)
                    .query(&format!("DROP DATABASE IF EXISTS {name} ON CLUSTER '{{cluster}}'"))
                    .with_setting("distributed_ddl_task_timeout", "5")
                    .execute()
                    .await
                    .map_err(std::io::Error::other)
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("could not drop cluster test database `{}`: {error}", self.name);
        }
    }
}

/// A cluster of the test's own: `scripts/stack cluster up` with a temporary stack folder and
/// free loopback ports; [`PrivateCluster::stop`] and [`PrivateCluster::start`] take a node away
/// and bring it back. `scripts/stack cluster down` on drop, then the folder is deleted.
pub struct PrivateCluster {
    pub cluster: Cluster,
    ports: Vec<(&'static str, u16)>,
    /// The nodes' `distributed_ddl_task_timeout` in seconds, when not the script's default.
    ddl_timeout: Option<u32>,
    // Deleted on drop, after the servers stopped.
    dir: tempfile::TempDir,
}

impl PrivateCluster {
    /// Starts ZooKeeper and both nodes; panics with the script's output when that fails.
    pub fn start() -> PrivateCluster {
        PrivateCluster::start_with(None)
    }

    /// [`PrivateCluster::start`] with the nodes' `distributed_ddl_task_timeout` set to
    /// `seconds`, so a test with a node down need not wait the default 20 s per statement.
    pub fn start_with_ddl_timeout(seconds: u32) -> PrivateCluster {
        PrivateCluster::start_with(Some(seconds))
    }

    fn start_with(ddl_timeout: Option<u32>) -> PrivateCluster {
        const PORTS: [&str; 7] = [
            "TFM_STACK_ZK_PORT",
            "TFM_STACK_CH1_HTTP_PORT",
            "TFM_STACK_CH1_TCP_PORT",
            "TFM_STACK_CH1_INTERSERVER_PORT",
            "TFM_STACK_CH2_HTTP_PORT",
            "TFM_STACK_CH2_TCP_PORT",
            "TFM_STACK_CH2_INTERSERVER_PORT",
        ];
        // Below the ephemeral range: a released ephemeral port can go to a client socket before
        // a node binds it, and the node then exits (`server_ports`).
        let ports: Vec<(&'static str, u16)> = PORTS.iter().copied().zip(super::server_ports(PORTS.len())).collect();
        let port = |name: &str| ports.iter().find(|(known, _)| *known == name).map(|(_, port)| *port).unwrap_or(0);
        let cluster = Cluster {
            name: DEFAULT_NAME.to_owned(),
            urls: [
                format!("http://127.0.0.1:{}", port("TFM_STACK_CH1_HTTP_PORT")),
                format!("http://127.0.0.1:{}", port("TFM_STACK_CH2_HTTP_PORT")),
            ],
        };
        let private =
            PrivateCluster { cluster, ports, ddl_timeout, dir: tempfile::tempdir().expect("a temporary directory") };
        private.stack(&["cluster", "up"]);
        private
    }

    /// Stops `server`: `ch1`, `ch2` or `zookeeper`.
    pub fn stop(&self, server: &str) {
        self.stack(&["cluster", "stop", server]);
    }

    /// Starts `server` again and waits until it serves (a node: with its ZooKeeper session).
    pub fn start_again(&self, server: &str) {
        self.stack(&["cluster", "start", server]);
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(script());
        command.args(args).env("TFM_STACK_DIR", self.dir.path()).env_remove("TFM_STACK_CLUSTER");
        for (name, port) in &self.ports {
            command.env(name, port.to_string());
        }
        if let Some(seconds) = self.ddl_timeout {
            command.env("TFM_STACK_CLUSTER_DDL_TIMEOUT", seconds.to_string());
        }
        command
    }

    fn stack(&self, args: &[&str]) {
        let output = self.command(args).output().expect("run scripts/stack");
        assert!(
            output.status.success(),
            "scripts/stack {} failed:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if let Ok(output) = self.command(&["cluster", "down"]).output() {
            if !output.status.success() {
                eprintln!("scripts/stack cluster down: {}", String::from_utf8_lossy(&output.stderr));
            }
        }
    }
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/stack")
}
