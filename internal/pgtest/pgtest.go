// Package pgtest starts a real, throw-away PostgreSQL server for tests:
// Debian's postgresql binaries, initdb into a fresh folder, a free loopback
// port, the unix socket in that folder, stopped by PID in t.Cleanup. As
// root (initdb refuses root) the server runs as the postgres user, or
// nobody. Without the binaries Start skips, saying why — unless
// REGEN_REQUIRE_POSTGRES=1, which makes that a failure.
package pgtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RequireEnv makes a missing PostgreSQL a test failure when set to 1.
const RequireEnv = "REGEN_REQUIRE_POSTGRES"

// Server is a running PostgreSQL server.
type Server struct {
	// URL is a postgres:// URL of the server's "postgres" database as
	// the superuser "regen" (no password, loopback trust).
	URL  string
	Port int
	dir  string
	cmd  *exec.Cmd
	bin  string
}

// BinDir returns the newest /usr/lib/postgresql/<v>/bin holding initdb and
// postgres, or "" and why not.
func BinDir() (string, string) {
	if d := os.Getenv("REGEN_POSTGRES_BIN"); d != "" {
		return d, ""
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
				return d, ""
			}
		}
	}
	return "", "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install -y postgresql)"
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Start starts a server for the test, or skips (fails under
// REGEN_REQUIRE_POSTGRES=1) when PostgreSQL is not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, why := BinDir()
	if bin == "" {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%s=1 but %s", RequireEnv, why)
		}
		t.Skip(why)
	}
	s, err := start(bin)
	if err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop postgres: %v", err)
		}
	})
	return s
}

// credential returns the uid/gid the server runs as: ours unless we are
// root, then postgres's or nobody's.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root and neither a postgres nor a nobody user exists")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(bin string) (*Server, error) {
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "regen-pg-")
	if err != nil {
		return nil, fmt.Errorf("create server dir: %w", err)
	}
	s := &Server{dir: dir, bin: bin}
	fail := func(err error) (*Server, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if cred != nil {
		if err := os.Chmod(dir, 0o755); err != nil {
			return fail(err)
		}
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fail(fmt.Errorf("chown server dir: %w", err))
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "regen", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %w\n%s", err, out))
	}
	if s.Port, err = freePort(); err != nil {
		return fail(fmt.Errorf("pick a port: %w", err))
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return fail(err)
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(s.Port),
		"-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off",
		"-c", "synchronous_commit=off", "-c", "max_connections=50")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	cmd.Stdout, cmd.Stderr, cmd.Dir = logf, logf, dir
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("start postgres: %w", err))
	}
	s.cmd = cmd
	s.URL = fmt.Sprintf("postgres://regen@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), time.Second)
		if err == nil {
			c.Close()
			// Accepting connections on the socket is not the same as ready:
			// ask pg_isready-like via a query in the caller; a short wait
			// for the startup to finish is enough here.
			if ready(bin, dir, s.Port) {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			s.Stop()
			return nil, fmt.Errorf("postgres did not accept connections within 30s:\n%s", log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ready asks pg_isready when it is installed; true otherwise.
func ready(bin, dir string, port int) bool {
	p := filepath.Join(bin, "pg_isready")
	if _, err := os.Stat(p); err != nil {
		return true
	}
	return exec.Command(p, "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "regen", "-q").Run() == nil
}

// CreateDB creates a fresh database and returns its URL.
func (s *Server) CreateDB(t testing.TB, name string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(s.bin, "createdb"), "-h", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-U", "regen", name)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("createdb %s: %v\n%s", name, err, out)
	}
	return strings.Replace(s.URL, "/postgres?", "/"+name+"?", 1)
}

// Stop stops the server by PID (fast shutdown, then kill) and removes its
// folder.
func (s *Server) Stop() error {
	if s.cmd == nil {
		return os.RemoveAll(s.dir)
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
	return os.RemoveAll(s.dir)
}
