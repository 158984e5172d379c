package screen

import "time"

// SetFollowerClock replaces f's clock (time.Now), which the adaptive checkpoint policy reads.
func SetFollowerClock(f *Follower, now func() time.Time) { f.now = now }
