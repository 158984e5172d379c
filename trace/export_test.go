package trace

// SetWideOnly makes e's haircut take the general 256-bit path only, never the 64-bit one,
// so that tests can hold the two equal.
func SetWideOnly(e *Engine, wide bool) { e.sp.wideOnly = wide }

// SetPrep turns the block prep goroutine on (the default) or off for e.
func SetPrep(e *Engine, on bool) { e.prepOff = !on }

// SetKeepComps makes e keep converted compositions between Results, as a Follower's
// engine does.
func SetKeepComps(e *Engine, on bool) { e.keepComps = on }
