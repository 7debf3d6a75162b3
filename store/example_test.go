package store_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/store"
)

func ExampleParse() {
	data := []byte(`{"https://cryosparc.example.com": {"ali@example.com": {
		"token": {"access_token": "abc123", "token_type": "bearer"},
		"expires": "2099-01-31T12:00:00+01:00"}}}`)
	sessions, err := store.Parse(data, time.Now())
	if err != nil {
		panic(err)
	}
	s, ok := sessions.Find("https://cryosparc.example.com", "")
	fmt.Println(ok, s.Email, s.Token, s.Expires)
	// Output: true ali@example.com abc123 2099-01-31T12:00:00+01:00
}

func ExampleSessions_Marshal() {
	var sessions store.Sessions
	expires, _ := store.ParseDateTime("2099-01-31T12:00:00Z")
	sessions.Insert(store.Session{URL: "https://cryosparc.example.com", Email: "ali@example.com", Token: "abc123", Expires: expires})
	fmt.Println(string(sessions.Marshal()))
	// Output:
	// {
	//     "https://cryosparc.example.com": {
	//         "ali@example.com": {
	//             "token": {
	//                 "access_token": "abc123",
	//                 "token_type": "bearer"
	//             },
	//             "expires": "2099-01-31T12:00:00Z"
	//         }
	//     }
	// }
}

func ExampleUpdate() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "auth.json")

	// A locked read-modify-write: store a session valid for one hour.
	err := store.Update(path, nil, func(s *store.Sessions) error {
		_, err := s.Insert(store.Session{
			URL:     "https://cryosparc.example.com",
			Email:   "ali@example.com",
			Token:   "abc123",
			Expires: store.ExpiryFromTime(time.Now().Add(time.Hour)),
		})
		return err
	})
	if err != nil {
		panic(err)
	}
	sessions, _ := store.Load(path, nil)
	s, _ := sessions.Find("", "ali@example.com")
	fmt.Println(s.URL, s.Token)
	// Output: https://cryosparc.example.com abc123
}

func ExampleLookup() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "auth.json")
	os.WriteFile(path, []byte(`{"https://cryosparc.example.com": {"ali@example.com": {
		"token": {"access_token": "abc123", "token_type": "bearer"},
		"expires": "2099-01-31T12:00:00Z"}}}`), 0o600)

	// The fast way to answer one question: no URL means the first instance
	// with a session, as in cryosparc-tools.
	s, found, err := store.Lookup(path, nil, "", "ali@example.com")
	fmt.Println(found, err, s.URL, s.Token)
	// Output: true <nil> https://cryosparc.example.com abc123
}

func ExampleAsk() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "auth.json")
	os.WriteFile(path, []byte(`{"https://cryosparc.example.com": {"ali@example.com": {
		"token": {"access_token": "abc123", "token_type": "bearer"},
		"expires": "2020-01-31T12:00:00Z"}}}`), 0o600)

	// A miss, explained from the same read: the session is there, expired.
	a, err := store.Ask(path, nil, store.Query{Email: "ali@example.com", Whole: store.WholeOnMiss})
	fmt.Println(a.Found, err)
	for _, s := range a.Whole.All() {
		fmt.Println(s.Email, "expired", s.Expires)
	}
	// Output:
	// false <nil>
	// ali@example.com expired 2020-01-31T12:00:00Z
}

func ExampleSessions_Erase() {
	data := []byte(`{"https://cs.example.com": {
		"ali@example.com": {"token": {"access_token": "a", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"},
		"bo@example.com": {"token": {"access_token": "b", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`)
	sessions, _ := store.Parse(data, time.Now())

	// A stale token erases nothing; the right one erases its session.
	stale := "old"
	fmt.Println(sessions.Erase(store.Filter{URL: "https://cs.example.com", Email: "bo@example.com", Token: &stale}))
	fmt.Println(sessions.Erase(store.Filter{URL: "https://cs.example.com", Email: "bo@example.com"}))
	for _, s := range sessions.All() {
		fmt.Println(s.URL, s.Email)
	}
	// Output:
	// 0
	// 1
	// https://cs.example.com ali@example.com
}

func ExampleSave() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "auth.json")

	var sessions store.Sessions
	sessions.Insert(store.Session{URL: "https://cryosparc.example.com", Email: "ali@example.com", Token: "abc123",
		Expires: store.ExpiryFromTime(time.Date(2099, 1, 31, 12, 0, 0, 0, time.UTC))})
	if err := store.Save(path, nil, &sessions); err != nil {
		panic(err)
	}
	loaded, _ := store.Load(path, nil)
	s, _ := loaded.Find("", "")
	fmt.Println(s.Email, s.Expires)
	// Output: ali@example.com 2099-01-31T12:00:00Z
}

// DefaultFile is where this process's sessions are: cryosparc-tools' own
// file, or $CRYOSPARC_AUTH_FILE when set.
func ExampleDefaultFile() {
	os.Setenv("CRYOSPARC_AUTH_FILE", "/srv/lab/auth.json")
	defer os.Unsetenv("CRYOSPARC_AUTH_FILE")
	path, err := store.DefaultFile()
	fmt.Println(path, err)
	// Output: /srv/lab/auth.json <nil>
}
