package bitcoin

// Test access to unexported helpers.

// AppendCoreVarInt appends n as Bitcoin Core's VARINT.
func AppendCoreVarInt(dst []byte, n uint64) []byte { return appendCoreVarInt(dst, n) }

// ReadCoreVarInt reads one Bitcoin Core VARINT from b and returns it with the bytes used.
func ReadCoreVarInt(b []byte) (uint64, int, error) {
	r := reader{b: b}
	v := r.coreVarInt()
	return v, r.pos, r.err
}
