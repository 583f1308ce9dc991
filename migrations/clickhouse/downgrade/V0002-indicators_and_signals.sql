-- Undo V0002: drop signals and indicators.
DROP TABLE IF EXISTS signals;
DROP TABLE IF EXISTS indicators;
