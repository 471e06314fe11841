-- sqlite_workload.sql - an allocation-heavy sqlite3 run for bench/lockfree.sh:
-- 200,000 rows inserted in one transaction, two indexes built, then
-- GROUP BY / ORDER BY / JOIN queries, an update and a delete.  Run it on an
-- in-memory database (sqlite3 :memory: < sqlite_workload.sql) so the disk
-- does not enter the timing.  The output is the same on every run.
CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, category INTEGER, value REAL, note TEXT);
BEGIN;
WITH RECURSIVE counter(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM counter WHERE i < 200000)
INSERT INTO items
SELECT i, 'item-' || i, i % 97, (i * 7919) % 10007 + (i % 100) / 100.0,
       'note ' || ((i * 31) % 100003) || ' of category ' || (i % 97)
FROM counter;
COMMIT;
CREATE INDEX items_category ON items(category, value);
CREATE INDEX items_name ON items(name);
SELECT category, count(*), round(sum(value), 2), min(name), max(name)
FROM items GROUP BY category ORDER BY category LIMIT 12;
SELECT count(*) FROM items WHERE category = 42 AND value > 5000;
SELECT name, value FROM items WHERE name LIKE 'item-19999%' ORDER BY name;
SELECT a.category, count(*) FROM items a JOIN items b ON a.id = b.id + 1
WHERE a.category = b.category + 1 GROUP BY a.category ORDER BY 2 DESC, 1 LIMIT 5;
SELECT group_concat(name, ',') FROM (SELECT name FROM items ORDER BY value DESC, id LIMIT 20);
SELECT substr(note, 1, 12) AS prefix, count(*) FROM items
GROUP BY prefix ORDER BY count(*) DESC, prefix LIMIT 5;
UPDATE items SET note = upper(note) WHERE category < 10;
DELETE FROM items WHERE id % 3 = 0;
SELECT count(*), sum(length(note)), total(value) FROM items;
