-- "Near me" finds processes (#10). Migration 0010 indexed the position of every record with a
-- location, so each pushed contribution with a point paid a write at a random place in a
-- second B-tree: the bulk import ran at half its rate before (#9). The portal asks for
-- processes; a "near" filter on contributions now reads them in the kind's order instead.
DROP INDEX data_records_position;
CREATE INDEX data_records_position ON data_records (kind, lat_e6, lon_e6, status)
    WHERE kind = 'process' AND lat_e6 IS NOT NULL;
