-- morph:nontransactional
DROP INDEX CONCURRENTLY teams_name_idx;
