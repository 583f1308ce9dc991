UPDATE teams SET name = upper(name);
