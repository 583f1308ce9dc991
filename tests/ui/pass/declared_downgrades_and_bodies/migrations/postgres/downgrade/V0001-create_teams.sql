DROP FUNCTION team_count();
DROP FUNCTION touch();
DROP TABLE teams;
