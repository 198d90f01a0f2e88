package pkgbuild

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// Outcome is what happened to one package of a tree build.
type Outcome struct {
	Pkg    *Package
	Result Result
	Err    error
}

// WithDeps returns pkgs plus every package they depend on, dependencies
// first (a topological order; ties broken by directory).
func WithDeps(pkgs []*Package) []*Package {
	var order []*Package
	seen := map[*Package]bool{}
	var visit func(p *Package)
	visit = func(p *Package) {
		if seen[p] {
			return
		}
		seen[p] = true
		deps := append([]*Package(nil), p.Deps...)
		sort.Slice(deps, func(i, j int) bool { return deps[i].Dir < deps[j].Dir })
		for _, d := range deps {
			visit(d)
		}
		order = append(order, p)
	}
	sorted := append([]*Package(nil), pkgs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Dir < sorted[j].Dir })
	for _, p := range sorted {
		visit(p)
	}
	return order
}

// BuildAll builds pkgs and their dependencies, each after its
// dependencies, at most jobs at a time. A failure stops only the packages
// that depend on it. done is called once per package as it finishes.
func (b *Scheduler) BuildAll(ctx context.Context, pkgs []*Package, jobs int, done func(Outcome)) []Outcome {
	if jobs < 1 {
		jobs = 1
	}
	order := WithDeps(pkgs)
	finished := make(map[*Package]chan struct{}, len(order))
	outcomes := make(map[*Package]*Outcome, len(order))
	for _, p := range order {
		finished[p] = make(chan struct{})
		outcomes[p] = &Outcome{Pkg: p}
	}
	sem := make(chan struct{}, jobs)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(finished[p])
			o := outcomes[p]
			for _, d := range p.Deps {
				<-finished[d]
				if outcomes[d].Err != nil {
					o.Err = fmt.Errorf("not built: dependency %s failed", d.Repo())
				}
			}
			if o.Err == nil {
				select {
				case sem <- struct{}{}:
					o.Result, o.Err = b.Build(ctx, p)
					<-sem
				case <-ctx.Done():
					o.Err = ctx.Err()
				}
			}
			if done != nil {
				mu.Lock()
				done(*o)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	out := make([]Outcome, len(order))
	for i, p := range order {
		out[i] = *outcomes[p]
	}
	return out
}

// TreeCounts says how a BuildTree went.
type TreeCounts struct {
	Built, UpToDate, Failed int
}

// BuildTree is BuildAll with the bookkeeping a command needs: it counts
// the outcomes and fails when any package failed. With more than one job
// at a time, Progress "auto" becomes "plain": several live tty displays
// would overwrite each other.
func (b *Scheduler) BuildTree(ctx context.Context, pkgs []*Package, jobs int, done func(Outcome)) (TreeCounts, error) {
	if jobs > 1 && b.Opts.Progress == "auto" {
		b.Opts.Progress = "plain"
	}
	var n TreeCounts
	b.BuildAll(ctx, pkgs, jobs, func(o Outcome) {
		switch {
		case o.Err != nil:
			n.Failed++
		case o.Result.Skipped:
			n.UpToDate++
		default:
			n.Built++
		}
		if done != nil {
			done(o)
		}
	})
	if n.Failed > 0 {
		return n, fmt.Errorf("%d package(s) failed", n.Failed)
	}
	return n, nil
}

// VerifyTree runs VerifyReproducible on pkgs and their dependencies,
// dependencies first, stopping at the first failure; verified is called
// for each package that reproduced.
func (b *Scheduler) VerifyTree(ctx context.Context, pkgs []*Package, verified func(*Package)) error {
	for _, p := range WithDeps(pkgs) {
		if err := b.VerifyReproducible(ctx, p); err != nil {
			return err
		}
		if verified != nil {
			verified(p)
		}
	}
	return nil
}
