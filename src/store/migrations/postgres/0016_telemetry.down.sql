DROP TABLE series_chunks;
DROP TABLE sensors;
