//! Every mistake a MongoDB migration file can hold, each with where it is and the fix. Name,
//! version and pairing mistakes are the SQL migrations' own (`migrations::MigrationError`), since
//! both follow one set of rules.

use crate::diag::{DidYouMean, Location};

#[derive(Debug, thiserror::Error)]
pub enum MongoError {
    // --- the file
    #[error("{at}: {direction} holds no command; write the commands, or delete it and its partner")]
    NoCommands { at: Location, direction: &'static str },
    #[error(
        "{at}: `{key}` declares how the downgrade undoes the upgrade, so it belongs in `{downgrade}`, not in the upgrade"
    )]
    DeclarationInUpgrade { at: Location, key: &'static str, downgrade: String },
    #[error(
        "{at}: `{key}` declares that this downgrade runs nothing, but the file also has `commands`; keep one of them"
    )]
    DeclarationWithCommands { at: Location, key: &'static str },
    #[error("{at}: `{key}` gives no reason; write why, e.g. `{key}: the backfilled values are harmless`")]
    DeclarationWithoutReason { at: Location, key: &'static str },
    #[error("{at}: `no_op` and `irreversible` both declared; keep the one that is true")]
    TwoDeclarations { at: Location },

    // --- commands
    #[error("{at}: `{name}` is not a command a migration can run{hint}; commands: {allowed}")]
    UnknownCommand { at: Location, name: String, hint: DidYouMean, allowed: String },
    #[error("{at}: the command `{command}` must be the first key of its item (before `{first}`), as MongoDB reads it; move it up")]
    CommandNotFirst { at: Location, command: &'static str, first: String },
    #[error("{at}: an empty item runs nothing; write a command, e.g. `- create: <collection>`, or delete the item")]
    EmptyCommand { at: Location },
    #[error("{at}: one item holds two commands, `{first}` and `{second}`; give each its own list item")]
    TwoCommands { at: Location, first: &'static str, second: &'static str },
    #[error("{at}: {what} is {found}; use one of {allowed}{hint}")]
    NotOneOf { at: Location, what: String, found: String, allowed: String, hint: DidYouMean },
    #[error("{at}: {what} must be at least {min}, found {found}")]
    TooSmall { at: Location, what: String, min: i64, found: String },
    #[error("{at}: {what} must be greater than 0, found {found}")]
    NotPositive { at: Location, what: String, found: String },
    #[error("{at}: {what} must be at most {max}, found {found}")]
    TooLarge { at: Location, what: String, max: i64, found: String },
    #[error("{at}: {what} is empty; list at least one, or delete the command")]
    EmptyList { at: Location, what: String },
    #[error("{at}: a capped collection needs its `size` in bytes; add `size`")]
    CappedWithoutSize { at: Location },
    #[error("{at}: `{option}` applies only to a capped collection; add `capped: true` or delete `{option}`")]
    OnlyCapped { at: Location, option: &'static str },
    #[error("{at}: `collMod` changes nothing; give it `validator`, `validationLevel`, `validationAction` or `index`")]
    EmptyCollMod { at: Location },
    #[error("{at}: renaming `{name}` to itself does nothing; name the new collection, or delete the command")]
    RenameToSelf { at: Location, name: String },
    #[error("{at}: the `_id_` index cannot be dropped; MongoDB keeps it on every collection")]
    DropIdIndex { at: Location },

    // --- names
    #[error("{at}: `{name}` is not a valid collection name: {reason}")]
    BadCollectionName { at: Location, name: String, reason: &'static str },
    #[error(
        "{at}: `{name}` is where the migrator keeps its own history; migrations must not touch it, pick another name"
    )]
    ReservedCollection { at: Location, name: String },
    #[error("{at}: `{name}` is not a valid index name: {reason}")]
    BadIndexName { at: Location, name: String, reason: String },
    #[error(
        "{at}: index `{name}` on `{collection}` is created twice (first at {first}); give each index its own name"
    )]
    DuplicateIndexName { at: Location, name: String, collection: String, first: Location },
    #[error("{at}: this key pattern is already indexed by `{first}` in the same command; MongoDB refuses the second index, delete one")]
    DuplicateIndexKey { at: Location, first: String },

    // --- index specs
    #[error("{at}: an index needs at least one field in `key`, e.g. `key: {{name: 1}}`")]
    EmptyIndexKey { at: Location },
    #[error("{at}: field `{field}` has {found} in `key`; use `1` (ascending), `-1` (descending) or one of {types}")]
    BadKeyDirection { at: Location, field: String, found: String, types: String },
    #[error("{at}: `{field}` cannot be indexed: {reason}")]
    BadKeyField { at: Location, field: String, reason: &'static str },
    #[error(
        "{at}: a TTL index (`expireAfterSeconds`) must have exactly one ascending or descending field, but `key` has {fields}; \
         index the date field alone, and the other fields in a second index"
    )]
    TtlNotSingleField { at: Location, fields: String },
    #[error("{at}: a TTL index cannot be on `_id`; index the date field instead")]
    TtlOnId { at: Location },
    #[error("{at}: a `{kind}` index cannot be unique; drop `unique`, or index the field with `1`")]
    UniqueOnSpecial { at: Location, kind: String },
    #[error("{at}: `sparse` and `partialFilterExpression` cannot be combined; keep `partialFilterExpression` (it says exactly which documents are indexed)")]
    SparseWithPartial { at: Location },
    #[error(
        "{at}: `{operator}` is not allowed in `partialFilterExpression`; use equality, `$exists: true`, `$gt`, `$gte`, `$lt`, `$lte`, \
         `$type`, `$in`, or `$and`/`$or` of those{hint}"
    )]
    PartialFilterOperator { at: Location, operator: String, hint: DidYouMean },
    #[error(
        "{at}: `$exists: false` is not allowed in `partialFilterExpression` (MongoDB refuses it); index the documents that have \
         the field with `$exists: true`"
    )]
    PartialExistsFalse { at: Location },

    // --- $jsonSchema
    #[error("{at}: the validator holds `{key}`; write the whole rule as `$jsonSchema`, the only validator these checks understand")]
    ValidatorNotJsonSchema { at: Location, key: String },
    #[error("{at}: `{keyword}` is not a `$jsonSchema` keyword{hint}; keywords: {allowed}")]
    UnknownSchemaKeyword { at: Location, keyword: String, hint: DidYouMean, allowed: String },
    #[error("{at}: MongoDB's `$jsonSchema` does not support `{keyword}`: {fix}")]
    UnsupportedSchemaKeyword { at: Location, keyword: String, fix: &'static str },
    #[error("{at}: `{name}` is not a BSON type{hint}; types: {allowed}")]
    UnknownBsonType { at: Location, name: String, hint: DidYouMean, allowed: String },
    #[error("{at}: `{name}` is not a `type` of MongoDB's `$jsonSchema`{hint}; use `bsonType` for BSON types such as `int` or `date`, or one of {allowed}")]
    UnknownJsonType { at: Location, name: String, hint: DidYouMean, allowed: String },
    #[error("{at}: `type` and `bsonType` together are refused by MongoDB; keep `bsonType`")]
    TypeAndBsonType { at: Location },
    #[error(
        "{at}: `{property}` is required but not declared in `properties`, and `additionalProperties: false` forbids every \
         undeclared field, so no document could pass; declare `{property}` in `properties`, or drop it from `required`"
    )]
    RequiredNotDeclared { at: Location, property: String },
    #[error(
        "{at}: `additionalProperties: false` without `_id` in `properties` rejects every document (each has an `_id`); \
         declare `_id: {{bsonType: objectId}}` (or its real type) in `properties`"
    )]
    IdNotDeclared { at: Location },
    #[error("{at}: `{property}` is listed twice in `required` (first at {first}); list it once")]
    DuplicateRequired { at: Location, property: String, first: Location },
    #[error("{at}: the validator's top level describes the whole document, so its `{keyword}` must be `object`, found {found}")]
    RootNotObject { at: Location, keyword: &'static str, found: String },
    #[error("{at}: `{low}` ({low_value}) is greater than `{high}` ({high_value}), so no value could pass; swap or correct them")]
    BoundsReversed { at: Location, low: &'static str, low_value: String, high: &'static str, high_value: String },
    #[error("{at}: `{keyword}` needs `{bound}` beside it (MongoDB refuses it alone); add `{bound}`")]
    ExclusiveWithoutBound { at: Location, keyword: &'static str, bound: &'static str },

    // --- data commands
    #[error("{at}: `limit` of a delete must be `0` (every matching document) or `1` (one), found {found}")]
    DeleteLimit { at: Location, found: String },
    #[error("{at}: `u` mixes update operators (`{operator}`) with plain fields (`{field}`); use only `$set`-style operators, or only fields for a replacement")]
    UpdateMixed { at: Location, operator: String, field: String },
    #[error("{at}: a replacement document (`u` without `$` operators) replaces one document, so `multi: true` is refused; use `$set` to change many")]
    MultiReplacement { at: Location },
}
