package offline

// Stateful reports whether a resource holds data (its catalog entry says so). A read replica
// holds only a copy of its source, so it is not stateful.
func Stateful(typ string, inputs map[string]any) bool {
	if !KindOf(typ).Stateful {
		return false
	}
	if src, ok := inputs["replicateSourceDb"].(string); ok && src != "" {
		return false
	}
	return true
}
