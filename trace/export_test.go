package trace

// SetWideOnly makes e's haircut take the general 256-bit path only, never the 64-bit one,
// so that tests can hold the two equal.
func SetWideOnly(e *Engine, wide bool) { e.sp.wideOnly = wide }
