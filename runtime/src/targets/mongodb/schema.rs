//! The database as sorted text lines, for `verify-downgrades`: every collection with its
//! options (validator, validation level and action, capped size) and every index with its
//! spec, `migrations` left out. Two dumps are equal when a downgrade undid its upgrade.

use futures::TryStreamExt;
use mongodb::bson::{Bson, Document};

use super::connection::Connection;
use super::history::COLLECTION;
use super::MongoError;

pub async fn dump(connection: &Connection) -> Result<String, MongoError> {
    let database = connection.database()?;
    let specifications = connection.bounded("list collections", database.list_collections()).await?;
    let specifications: Vec<_> = connection.bounded("list collections", specifications.try_collect::<Vec<_>>()).await?;
    let mut lines = Vec::new();
    for specification in specifications {
        let name = specification.name;
        if name == COLLECTION || name.starts_with("system.") {
            continue;
        }
        let options = mongodb::bson::to_document(&specification.options).unwrap_or_default();
        lines.push(format!("collection {name} {}", canonical(&Bson::Document(without_nulls(options)))));
        let collection = database.collection::<Document>(&name);
        let cursor = connection.bounded("list indexes", collection.list_indexes()).await?;
        let indexes: Vec<_> = connection.bounded("list indexes", cursor.try_collect::<Vec<_>>()).await?;
        for index in indexes {
            let mut spec = mongodb::bson::to_document(&index).unwrap_or_default();
            // Index versions differ between servers and say nothing about the schema.
            if let Ok(options) = spec.get_document_mut("options") {
                options.remove("v");
            }
            lines.push(format!("index {name} {}", canonical(&Bson::Document(without_nulls(spec)))));
        }
    }
    lines.sort();
    Ok(lines.join("\n"))
}

fn without_nulls(document: Document) -> Document {
    document
        .into_iter()
        .filter(|(_, value)| !matches!(value, Bson::Null))
        .map(|(key, value)| match value {
            Bson::Document(inner) => (key, Bson::Document(without_nulls(inner))),
            other => (key, other),
        })
        .collect()
}

/// Extended JSON with every document's keys sorted, so options read back in any order compare.
fn canonical(value: &Bson) -> String {
    match value {
        Bson::Document(document) => {
            let mut keys: Vec<&String> = document.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|key| match &document[key.as_str()] {
                    // An index key's order is part of the index: kept as declared.
                    Bson::Document(index_key) if key == "key" => {
                        let fields: Vec<String> =
                            index_key.iter().map(|(field, value)| format!("{field:?}:{}", canonical(value))).collect();
                        format!("{key:?}:{{{}}}", fields.join(","))
                    }
                    value => format!("{key:?}:{}", canonical(value)),
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Bson::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        Bson::Int32(value) => value.to_string(),
        Bson::Int64(value) => value.to_string(),
        Bson::Double(value) => value.to_string(),
        other => other.clone().into_relaxed_extjson().to_string(),
    }
}
