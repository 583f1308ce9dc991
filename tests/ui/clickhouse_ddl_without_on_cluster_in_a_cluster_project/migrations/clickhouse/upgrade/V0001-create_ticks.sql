CREATE TABLE ticks ON CLUSTER '{cluster}' (
    id UInt64,
    price Float64
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY id;
