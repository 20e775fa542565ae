DROP TABLE record_chunks;
DROP TABLE record_channels;
DROP TABLE records;
