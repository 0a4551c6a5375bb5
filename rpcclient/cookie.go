package rpcclient

import (
	"fmt"
	"os"
	"strings"
)

// ReadCookie reads the credentials a node wrote to its cookie file (the
// .cookie file in its network's data folder while it runs with no fixed
// RPC user), in Bitcoin Core's format: user:password on one line.
func ReadCookie(path string) (user, password string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	user, password, ok := strings.Cut(strings.TrimSpace(string(b)), ":")
	if !ok {
		return "", "", fmt.Errorf("cookie file %s is malformed", path)
	}
	return user, password, nil
}
