-- Undo V0004: drop the research tables in reverse order of creation.
DROP TABLE IF EXISTS monte_carlo_simulations;
DROP TABLE IF EXISTS walk_forward_results;
DROP TABLE IF EXISTS genetic_population;
DROP TABLE IF EXISTS optimization_results;
DROP TABLE IF EXISTS backtest_results;
