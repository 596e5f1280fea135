// dc-util-sim stands in for crate-operator's dc_util (installed as
// dc_util-linux-{amd64,x86_64,arm64,aarch64}): a preStop hook that
// decommissions the local CrateDB node, and a postStart hook (-reset-routing).
package main

import (
	"log"
	"os"

	"cratesim/internal/dcutil"
)

func main() {
	o, err := dcutil.ParseFlags(os.Args[1:])
	if err != nil {
		os.Exit(2)
	}
	log.SetOutput(os.Stdout)
	dcutil.SetupLogging(o.LogFile)
	if o.ResetRouting {
		log.SetPrefix("ResetRouting: ")
		if err := dcutil.PostStartResetRouting(&o); err != nil {
			log.Fatalf("Error: %v", err)
		}
		return
	}
	log.SetPrefix("Decommissioner: ")
	if err := dcutil.PreStop(&o); err != nil {
		log.Fatalf("Error: %v", err)
	}
}
