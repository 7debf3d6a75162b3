package authjson

// keyIndex finds keys among the members of an object read so far, by
// scanning while there are few and through a map once there are many.
type keyIndex struct {
	m  map[string]int
	on bool // m is in use; it is kept (cleared) for the next object
}

// reset readies x for another object, keeping its map's room.
func (x *keyIndex) reset() { x.on = false }

const indexAbove = 16

func (x *keyIndex) find(n int, key string, keyAt func(int) string) (int, bool) {
	if x.on {
		i, ok := x.m[key]
		return i, ok
	}
	for i := 0; i < n; i++ {
		if keyAt(i) == key {
			return i, true
		}
	}
	return 0, false
}

// add records that member n-1 has key.
func (x *keyIndex) add(n int, key string, keyAt func(int) string) {
	switch {
	case x.on:
		x.m[key] = n - 1
	case n > indexAbove:
		if x.m == nil {
			x.m = make(map[string]int, 2*n)
		} else {
			clear(x.m)
		}
		for i := 0; i < n; i++ {
			x.m[keyAt(i)] = i
		}
		x.on = true
	}
}

// addInstance appends an instance read from the file to list; a URL read
// before keeps its place and takes the new sessions.
func addInstance(list []Instance, index *keyIndex, inst Instance) []Instance {
	urlAt := func(i int) string { return list[i].URL }
	if i, dup := index.find(len(list), inst.URL, urlAt); dup {
		list[i].Sessions = inst.Sessions
		return list
	}
	list = append(list, inst)
	index.add(len(list), inst.URL, urlAt)
	return list
}

// settle resolves the sessions of one instance as read from the file as
// cryosparc-tools does: a duplicated email's last value wins, at the first
// one's place; then sessions expired at now (Unix microseconds) are
// dropped. It works in place, with index as its scratch space.
func settle(list []Session, now int64, index *keyIndex) []Session {
	index.reset()
	out := list[:0]
	emailAt := func(j int) string { return out[j].Email }
	for _, sess := range list {
		if j, dup := index.find(len(out), sess.Email, emailAt); dup {
			out[j] = sess
			continue
		}
		out = append(out, sess)
		index.add(len(out), sess.Email, emailAt)
	}
	live := out[:0]
	for _, sess := range out {
		if sess.Expires.UnixMicro() > now {
			live = append(live, sess)
		}
	}
	return live
}
