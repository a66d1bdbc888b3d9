package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/regen-dev/regen/internal/pgtest"
	"github.com/regen-dev/regen/runner/history"
	"github.com/regen-dev/regen/runner/history/historytest"
	"github.com/regen-dev/regen/runner/history/postgres"
)

func TestConformance(t *testing.T) {
	srv := pgtest.Start(t)
	var n atomic.Int64
	historytest.RunConformance(t, func(t testing.TB) history.Store {
		url := srv.CreateDB(t, fmt.Sprintf("conf%d", n.Add(1)))
		s, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return s
	})
	t.Run("NewerSchemaIsRefused", func(t *testing.T) {
		ctx := context.Background()
		url := srv.CreateDB(t, "newer")
		s, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().ExecContext(ctx, "UPDATE regen_history_schema SET version = 99"); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if s, err := postgres.Open(ctx, url); !errors.Is(err, history.ErrNewerSchema) {
			if s != nil {
				s.Close()
			}
			t.Errorf("got %v, want ErrNewerSchema", err)
		}
	})
}

func TestUnreachableNamesTheServer(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	url := "postgres://regen:secret@" + addr + "/h?sslmode=disable&connect_timeout=2"
	s, err := postgres.Open(context.Background(), url)
	if err == nil {
		s.Close()
		t.Fatal("opened a store on a closed port")
	}
	if !errors.Is(err, history.ErrUnreachable) || !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "secret") {
		t.Errorf("got %q; want ErrUnreachable naming %s without the password", err, addr)
	}
}
