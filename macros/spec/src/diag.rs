//! Where a problem is, and how every problem of one build is collected and reported.
//!
//! Each source module has its own error enum; [`Problem`] gathers them so that `compile`
//! can report all problems of a build at once, one compile error each.

use std::fmt;

/// A place in a source file: a path relative to the sources root (always `/`-separated, so
/// messages read the same on every platform) and, when known, a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub path: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl Location {
    /// The whole file, no position inside it.
    pub fn file(path: impl Into<String>) -> Self {
        Location { path: path.into(), line: None, column: None }
    }

    /// A position inside a file; `line` and `column` are 1-based.
    pub fn at(path: impl Into<String>, line: u32, column: u32) -> Self {
        Location { path: path.into(), line: Some(line), column: Some(column) }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "{}:{line}:{column}", self.path),
            (Some(line), None) => write!(f, "{}:{line}", self.path),
            _ => f.write_str(&self.path),
        }
    }
}

/// A "did you mean" hint for a near miss; displays as nothing when there is no close candidate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DidYouMean(pub Option<String>);

impl DidYouMean {
    /// The closest of `known` to `unknown`, if it is close enough to be a likely typo.
    pub fn find<'a>(unknown: &str, known: impl IntoIterator<Item = &'a str>) -> Self {
        let best = known
            .into_iter()
            .map(|candidate| (strsim::jaro_winkler(unknown, candidate), candidate))
            .filter(|(score, _)| *score >= 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        DidYouMean(best.map(|(_, candidate)| candidate.to_string()))
    }
}

impl fmt::Display for DidYouMean {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(candidate) => write!(f, " (did you mean `{candidate}`?)"),
            None => Ok(()),
        }
    }
}

/// One problem in the sources: becomes one compile error.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    #[error(transparent)]
    Read(#[from] crate::source::ReadError),
    #[error(transparent)]
    Document(#[from] crate::tree::DocumentError),
    #[error(transparent)]
    Migration(#[from] crate::migrations::MigrationError),
    #[error(transparent)]
    Transaction(#[from] crate::transaction::TransactionError),
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
    #[error(transparent)]
    OtherTool(#[from] crate::other_tools::OtherToolError),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(transparent)]
    Topic(#[from] crate::topics::TopicError),
    #[error(transparent)]
    Indicator(#[from] crate::indicators::IndicatorError),
    #[error(transparent)]
    Mongo(#[from] crate::mongodb::MongoError),
}

/// Every problem found in one build, in the order they were found.
#[derive(Debug, Default)]
pub struct Problems(Vec<Problem>);

impl Problems {
    pub fn push(&mut self, problem: impl Into<Problem>) {
        self.0.push(problem.into());
    }

    pub fn extend(&mut self, other: Problems) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }

    /// `Ok(value)` when nothing was found, else every problem.
    pub fn into_result<T>(self, value: T) -> Result<T, Problems> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl IntoIterator for Problems {
    type Item = Problem;
    type IntoIter = std::vec::IntoIter<Problem>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.0 {
            writeln!(f, "error: {problem}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_shows_line_and_column_when_known() {
        assert_eq!(Location::at("kafka_topics.yml", 3, 7).to_string(), "kafka_topics.yml:3:7");
        assert_eq!(Location::file("a.sql").to_string(), "a.sql");
    }

    #[test]
    fn did_you_mean_suggests_only_near_misses() {
        let known = ["partitions", "replication_factor", "config"];
        assert_eq!(DidYouMean::find("partitons", known).0.as_deref(), Some("partitions"));
        assert_eq!(DidYouMean::find("colour", known).0, None);
        assert_eq!(DidYouMean::find("partitons", known).to_string(), " (did you mean `partitions`?)");
    }
}
