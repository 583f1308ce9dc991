//! The validated plan, as the checks produce it: owned values that cannot hold a mistake the
//! checks reject. `codegen` turns it into the `&'static` plan compiled into the binary
//! (`tradeforge_migrator::plan`), and `text` renders it for `migrator plan`.

/// Everything the sources describe, checked and ordered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// `sha256:<hex>` over every input file (relative path and normalised text), in a fixed order.
    pub fingerprint: String,
    /// Ascending versions.
    pub postgres: Vec<Migration>,
    /// Ascending versions.
    pub clickhouse: Vec<Migration>,
    /// Ascending versions.
    pub mongodb: Vec<crate::mongodb::MongoMigration>,
    /// In declaration order.
    pub topics: Vec<Topic>,
    /// Sorted by name.
    pub indicators: Vec<Indicator>,
    /// Absolute paths of data migration files whose item has a mistake (`data::DataFile` with no
    /// declaration): they are left out of the plan but still included as modules, so that the
    /// `#[data_migration]` attribute (or rustc) reports the mistake at the item.
    pub rejected_data_files: Vec<String>,
}

/// Which database a SQL migration belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dialect {
    Postgres,
    ClickHouse,
}

impl Dialect {
    /// The folder name under `migrations/`.
    pub fn dir(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::ClickHouse => "clickhouse",
        }
    }
}

/// One upgrade/downgrade pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Migration {
    pub version: u64,
    /// The text after `V<digits>-` in the file name, without `.sql`.
    pub description: String,
    pub upgrade: Script,
    pub downgrade: Script,
    /// `sha256:<hex>` of the upgrade's normalised text (LF line endings, no BOM); for a data
    /// migration, of its Rust file.
    pub checksum: String,
    /// Set for a PostgreSQL data migration written in Rust (see `data`): both scripts then name
    /// its file and hold no statement.
    pub data: Option<DataSource>,
    /// How the downgrade undoes the upgrade: by its statements, or by a declaration.
    pub reversal: Reversal,
}

/// How a migration is undone (`migrations`: the `-- migrator:no-op` and
/// `-- migrator:irreversible` directives).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Reversal {
    /// The downgrade's statements (or a data migration's function) undo it.
    #[default]
    Script,
    /// Nothing needs undoing; the downgrade holds no statement.
    NoOp { reason: String },
    /// It cannot be undone: `down` refuses to cross it.
    Irreversible { reason: String },
}

/// Where a data migration's code is, for the `#[path]` module `plan!()` includes it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSource {
    /// Absolute path of the `.rs` file.
    pub file: String,
    /// Whether the file still holds `placeholder::PLACEHOLDER_TEXT`, as `migrator new` wrote it.
    pub holds_placeholder: bool,
}

/// One SQL file, normalised and split into statements.
#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    /// Relative to the sources root, `/`-separated, e.g. `migrations/postgres/upgrade/V0001-users.sql`.
    pub path: String,
    /// The whole normalised text.
    pub sql: String,
    /// Each statement without its trailing `;`, comments kept, surrounding blank space trimmed.
    pub statements: Vec<String>,
    /// Byte offset in `sql` where each of `statements` starts, one per statement, so that a
    /// check of a statement (such as `lint`) can name its line and column.
    pub statement_offsets: Vec<usize>,
    /// False when the first line is `-- migrator:no-transaction`.
    pub transactional: bool,
}

/// One declared topic, with the defaults applied and every config value as Kafka receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topic {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i16,
    /// Sorted by key; values are the exact strings sent to the broker (`604800000`, `compact,delete`).
    pub config: Vec<(String, String)>,
    /// A tombstone: the topic is no longer wanted.
    pub deleted: bool,
}

/// One indicator definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Indicator {
    pub name: String,
    pub display_name: String,
    pub category: Category,
    pub description: Option<String>,
    pub parameters: Vec<Parameter>,
    pub outputs: Vec<Output>,
    /// The file it was declared in, relative to the sources root.
    pub source: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Trend,
    Momentum,
    Volatility,
    Volume,
    Other,
}

impl Category {
    pub const ALL: [Category; 5] =
        [Category::Trend, Category::Momentum, Category::Volatility, Category::Volume, Category::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Trend => "trend",
            Category::Momentum => "momentum",
            Category::Volatility => "volatility",
            Category::Volume => "volume",
            Category::Other => "other",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    pub name: String,
    pub kind: ParameterKind,
    pub default: Option<Value>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The allowed values of an `enum` parameter; empty for other kinds.
    pub values: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParameterKind {
    Integer,
    Float,
    Boolean,
    String,
    Enum,
}

impl ParameterKind {
    pub const ALL: [ParameterKind; 5] = [
        ParameterKind::Integer,
        ParameterKind::Float,
        ParameterKind::Boolean,
        ParameterKind::String,
        ParameterKind::Enum,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ParameterKind::Integer => "integer",
            ParameterKind::Float => "float",
            ParameterKind::Boolean => "boolean",
            ParameterKind::String => "string",
            ParameterKind::Enum => "enum",
        }
    }
}

/// A parameter default, already of its parameter's kind (an integer written for a float is a float).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Integer(i64),
    Float(f64),
    Boolean(bool),
    String(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub name: String,
    pub kind: OutputKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    Float,
    Integer,
    Boolean,
}

impl OutputKind {
    pub const ALL: [OutputKind; 3] = [OutputKind::Float, OutputKind::Integer, OutputKind::Boolean];

    pub fn as_str(self) -> &'static str {
        match self {
            OutputKind::Float => "float",
            OutputKind::Integer => "integer",
            OutputKind::Boolean => "boolean",
        }
    }
}
