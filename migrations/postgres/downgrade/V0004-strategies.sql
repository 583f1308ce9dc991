-- Undo V0004: drop strategy_access, strategy_runs, then strategies.
DROP TABLE strategy_access;
DROP TABLE strategy_runs;
DROP TABLE strategies;
