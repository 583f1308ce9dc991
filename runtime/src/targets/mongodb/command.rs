//! One command of the plan (its canonical JSON) as the document the server runs, and what it
//! leaves in the catalog, so that a command whose outcome was never recorded can be settled.

use mongodb::bson::{Bson, Document};
use serde_json::Value as Json;

/// The database a command runs on and its document. Collections are named without the
/// database in the plan; `renameCollection` takes namespaces and runs on `admin`.
pub(super) fn prepare(json: &str, database: &str) -> Result<(String, Document), String> {
    let value: Json = serde_json::from_str(json).map_err(|error| format!("the plan's command is not JSON: {error}"))?;
    let Bson::Document(mut document) = to_bson(&value) else {
        return Err("the plan's command is not a JSON object".to_owned());
    };
    if let Some(old) = document.get_str("renameCollection").ok().map(str::to_owned) {
        let new = document.get_str("to").map_err(|error| format!("`renameCollection` without `to`: {error}"))?;
        let new = format!("{database}.{new}");
        document.insert("renameCollection", format!("{database}.{old}"));
        document.insert("to", new);
        return Ok(("admin".to_owned(), document));
    }
    Ok((database.to_owned(), document))
}

/// JSON as BSON, keys in order; an integer is an int32 where it fits (index directions, TTLs,
/// `minLength`), as the shell would send it, else an int64.
pub(super) fn to_bson(value: &Json) -> Bson {
    match value {
        Json::Null => Bson::Null,
        Json::Bool(value) => Bson::Boolean(*value),
        Json::Number(number) => match (number.as_i64(), number.as_f64()) {
            (Some(integer), _) => i32::try_from(integer).map_or(Bson::Int64(integer), Bson::Int32),
            (None, Some(float)) => Bson::Double(float),
            (None, None) => Bson::Double(f64::NAN),
        },
        Json::String(text) => Bson::String(text.clone()),
        Json::Array(items) => Bson::Array(items.iter().map(to_bson).collect()),
        Json::Object(map) => Bson::Document(map.iter().map(|(key, value)| (key.clone(), to_bson(value))).collect()),
    }
}

/// `create strategy_configs`: the command and its collection, for messages.
pub(super) fn summary(json: &str) -> String {
    let value: Json = serde_json::from_str(json).unwrap_or(Json::Null);
    match value.as_object().and_then(|map| map.iter().next()) {
        Some((name, Json::String(collection))) => format!("{name} {collection}"),
        Some((name, _)) => name.clone(),
        None => json.chars().take(60).collect(),
    }
}

/// What a command leaves in the catalog when it ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Effect {
    /// `create`: the collection exists.
    Created(String),
    /// `drop`: the collection is gone.
    Dropped(String),
    /// `createIndexes`: every named index exists. Running it again where some exist changes
    /// nothing for them (MongoDB accepts an identical index as already there).
    IndexesCreated { collection: String, names: Vec<String> },
    /// `dropIndexes`: the index is gone.
    IndexDropped { collection: String, name: String },
    /// `renameCollection`: the old name is gone and the new one exists.
    Renamed { from: String, to: String },
    /// `collMod` and the data commands leave nothing the catalog can show.
    Unreadable(&'static str),
}

pub(super) fn effect(json: &str) -> Effect {
    let value: Json = serde_json::from_str(json).unwrap_or(Json::Null);
    let Some(map) = value.as_object() else { return Effect::Unreadable("the command cannot be read") };
    let Some((name, Json::String(collection))) = map.iter().next() else {
        return Effect::Unreadable("the command cannot be read");
    };
    let collection = collection.clone();
    match name.as_str() {
        "create" => Effect::Created(collection),
        "drop" => Effect::Dropped(collection),
        "createIndexes" => {
            let names = map
                .get("indexes")
                .and_then(Json::as_array)
                .map(|indexes| {
                    indexes.iter().filter_map(|index| index.get("name")?.as_str().map(str::to_owned)).collect()
                })
                .unwrap_or_default();
            Effect::IndexesCreated { collection, names }
        }
        "dropIndexes" => match map.get("index").and_then(Json::as_str) {
            Some(index) => Effect::IndexDropped { collection, name: index.to_owned() },
            None => Effect::Unreadable("`dropIndexes` names no index"),
        },
        "renameCollection" => match map.get("to").and_then(Json::as_str) {
            Some(to) => Effect::Renamed { from: collection, to: to.to_owned() },
            None => Effect::Unreadable("`renameCollection` has no `to`"),
        },
        "collMod" => Effect::Unreadable("a `collMod` leaves nothing in the catalog that shows whether it ran"),
        _ => Effect::Unreadable("a data command (insert, update, delete) cannot be told from the catalog"),
    }
}

/// The commands of a downgrade stored in history: one canonical JSON document per line; a
/// declared no-op or irreversible downgrade (a directive line) has none.
pub(super) fn stored_commands(stored: &str) -> Vec<String> {
    stored.lines().filter(|line| line.starts_with('{')).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_int32_where_they_fit_and_keys_keep_their_order() {
        let (database, document) = prepare(
            r#"{"createIndexes":"a","indexes":[{"key":{"t":1,"x":-1},"name":"a_t","expireAfterSeconds":5000000000}]}"#,
            "db",
        )
        .expect("valid");
        assert_eq!(database, "db");
        assert_eq!(document.keys().collect::<Vec<_>>(), ["createIndexes", "indexes"]);
        let index = document.get_array("indexes").expect("indexes")[0].as_document().expect("document").clone();
        assert_eq!(index.get_document("key").expect("key").get("t"), Some(&Bson::Int32(1)));
        assert_eq!(index.get("expireAfterSeconds"), Some(&Bson::Int64(5_000_000_000)));
    }

    #[test]
    fn rename_takes_namespaces_and_runs_on_admin() {
        let (database, document) = prepare(r#"{"renameCollection":"a","to":"b"}"#, "db").expect("valid");
        assert_eq!(database, "admin");
        assert_eq!(document.get_str("renameCollection"), Ok("db.a"));
        assert_eq!(document.get_str("to"), Ok("db.b"));
    }

    #[test]
    fn effects_are_read_from_the_command() {
        assert_eq!(effect(r#"{"create":"a","capped":false}"#), Effect::Created("a".into()));
        assert_eq!(
            effect(r#"{"createIndexes":"a","indexes":[{"key":{"x":1},"name":"i"}]}"#),
            Effect::IndexesCreated { collection: "a".into(), names: vec!["i".into()] }
        );
        assert!(matches!(effect(r#"{"collMod":"a","validationLevel":"off"}"#), Effect::Unreadable(_)));
        assert_eq!(summary(r#"{"drop":"a"}"#), "drop a");
        assert_eq!(stored_commands("{\"drop\":\"a\"}\n{\"drop\":\"b\"}").len(), 2);
        assert!(stored_commands("-- migrator:no-op nothing to undo").is_empty());
    }
}
