CREATE TABLE ticks (symbol String, price Float64) ENGINE = MergeTree ORDER BY symbol;
