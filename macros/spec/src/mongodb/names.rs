//! MongoDB's rules for collection and index names, and the one name migrations must leave alone.

use super::error::MongoError;
use crate::diag::Location;

/// The collection that holds the migrator's history (the seed's `migrations`).
pub const HISTORY_COLLECTION: &str = "migrations";

/// The longest database name MongoDB accepts, in bytes.
pub const MAX_DATABASE_NAME: usize = 64;

/// The longest namespace (`<database>.<collection>`) MongoDB 4.4+ accepts, in bytes.
pub const MAX_NAMESPACE: usize = 255;

/// The longest collection name: the database is chosen at deploy time (`MONGO_DATABASE`), so
/// the collection must fit beside the longest possible database name.
pub const MAX_COLLECTION_NAME: usize = MAX_NAMESPACE - MAX_DATABASE_NAME - 1;

/// The longest index name. MongoDB before 4.2 limited `<database>.<collection>.$<index>` to 127
/// bytes; newer servers have no limit of their own, but a name longer than this is unreadable
/// in every message that shows it and breaks older servers.
pub const MAX_INDEX_NAME: usize = 127;

/// Index names MongoDB gives a meaning of its own.
const RESERVED_INDEX_NAMES: [(&str, &str); 2] = [
    ("_id_", "it is the name of the index MongoDB keeps on `_id`"),
    ("*", "`dropIndexes` reads `*` as \"every index\""),
];

/// Why `name` is not a collection name MongoDB accepts, or the migrator lets migrations use.
pub fn check_collection(name: &str, at: &Location) -> Option<MongoError> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.contains('$') {
        "it contains `$`, which MongoDB reserves for its own namespaces"
    } else if name.contains('\0') {
        "it contains a NUL character"
    } else if name.starts_with("system.") {
        "names starting with `system.` are MongoDB's own collections"
    } else if !name.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic()) {
        "it must start with an ASCII letter or `_`"
    } else if name.ends_with('.') || name.contains("..") {
        "it has an empty part between dots"
    } else if name.len() > MAX_COLLECTION_NAME {
        "it is longer than 190 bytes, which with a 64-byte database name exceeds MongoDB's 255-byte namespace limit"
    } else if name == HISTORY_COLLECTION {
        return Some(MongoError::ReservedCollection { at: at.clone(), name: name.to_string() });
    } else {
        return None;
    };
    Some(MongoError::BadCollectionName { at: at.clone(), name: name.to_string(), reason })
}

/// Why `name` is not an index name a migration may create.
pub fn check_index(name: &str, at: &Location) -> Option<MongoError> {
    let reason = if name.is_empty() {
        "it is empty; name every index, so that a downgrade can drop it by name".to_string()
    } else if let Some((_, why)) = RESERVED_INDEX_NAMES.iter().find(|(reserved, _)| *reserved == name) {
        why.to_string()
    } else if name.contains('\0') {
        "it contains a NUL character".to_string()
    } else if name.len() > MAX_INDEX_NAME {
        format!("it is {} bytes long, more than {MAX_INDEX_NAME}; shorten it", name.len())
    } else {
        return None;
    };
    Some(MongoError::BadIndexName { at: at.clone(), name: name.to_string(), reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(name: &str) -> Option<String> {
        check_collection(name, &Location::at("f.yml", 1, 1)).map(|error| error.to_string())
    }

    #[test]
    fn collection_names_follow_mongodb() {
        assert_eq!(collection("strategy_configs"), None);
        assert_eq!(collection("_private.events"), None);
        for bad in ["", "a$b", "system.profile", "1st", ".x", "a..b", "a.", "a\0b"] {
            let message = collection(bad).unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(message.starts_with("f.yml:1:1: `"), "{message}");
        }
        assert!(collection(&"c".repeat(MAX_COLLECTION_NAME)).is_none());
        assert!(collection(&"c".repeat(MAX_COLLECTION_NAME + 1)).unwrap().contains("255-byte"));
    }

    #[test]
    fn the_history_collection_is_reserved() {
        assert_eq!(
            collection("migrations").unwrap(),
            "f.yml:1:1: `migrations` is where the migrator keeps its own history; migrations must not touch it, pick another name"
        );
    }

    #[test]
    fn index_names_are_bounded_and_not_reserved() {
        let at = Location::at("f.yml", 2, 3);
        assert!(check_index("name_unique", &at).is_none());
        assert!(check_index(&"i".repeat(MAX_INDEX_NAME), &at).is_none());
        assert!(check_index(&"i".repeat(MAX_INDEX_NAME + 1), &at).unwrap().to_string().contains("128 bytes long"));
        assert!(check_index("_id_", &at).unwrap().to_string().contains("index MongoDB keeps on `_id`"));
        assert!(check_index("*", &at).is_some());
        assert!(check_index("", &at).is_some());
    }
}
