CREATE TABLE ticks (symbol String, price Float64, at DateTime64(3)) ENGINE = MergeTree ORDER BY (symbol, at);
