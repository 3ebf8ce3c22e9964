package storage

import "github.com/redis/go-redis/v9"

// RawClientForTest returns the store's client, so tests can write keys the
// way other packages will.
func RawClientForTest(s *Store) redis.UniversalClient { return s.rdb }
