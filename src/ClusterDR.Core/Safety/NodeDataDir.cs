using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using ClusterDR.Transport;

namespace ClusterDR.Safety
{
    /// <summary>
    /// What every platform's restore does with a member's data dir on its node: find the processes
    /// that hold it, stop the member and prove it gone, prove a silent member down, move the dir
    /// aside and put it back. Part of the restore procedure (see MemberRestore), so it lives in Safety;
    /// Transport only carries the commands to the node.
    /// </summary>
    public static class NodeDataDir
    {
        public sealed class Holders
        {
            /// <summary>False when the node cannot show every process's files (not root, or no /proc): then an empty list proves nothing.</summary>
            public bool Complete;
            public string[] Pids;
        }

        /// <summary>PIDs on the node with an open file (or cwd) under <paramref name="dataDir"/>, read from /proc.</summary>
        public static Holders FindHolders(IRemoteShell sh, string dataDir, CancellationToken ct)
        {
            string d = dataDir.TrimEnd('/');
            var r = sh.RunChecked("Look for processes using the data dir",
                $"d={Sh.Quote(d)}; if [ ! -d /proc/self/fd ]; then echo scope=none; exit 0; fi; " +
                "if [ \"$(id -u)\" = 0 ]; then echo scope=all; else echo scope=own; fi; " +
                "find /proc/[0-9]*/fd /proc/[0-9]*/cwd -maxdepth 1 \\( -lname \"$d\" -o -lname \"$d/*\" \\) 2>/dev/null | cut -d/ -f3 | sort -u; exit 0", ct);
            var lines = r.StdOut.Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries).Select(x => x.Trim()).Where(x => x.Length > 0).ToList();
            return new Holders { Complete = lines.FirstOrDefault() == "scope=all", Pids = lines.Where(x => !x.StartsWith("scope=", StringComparison.Ordinal)).ToArray() };
        }

        /// <summary>
        /// A member this machine cannot reach may still run: asks its node whether anything holds its
        /// data dir(s), and marks it ProvenDown when nothing does (with a complete view of /proc).
        /// </summary>
        public static void ProveDown(ClusterMember member, IRemoteShell sh, IEnumerable<string> dataDirs, CancellationToken ct)
        {
            try
            {
                var pids = new List<string>();
                foreach (var dir in dataDirs.Where(d => !string.IsNullOrEmpty(d)).Distinct())
                {
                    var holders = FindHolders(sh, dir, ct);
                    if (!holders.Complete) { member.Problem += $"; {sh.Node} cannot show every process (not root, or no /proc)"; return; }
                    pids.AddRange(holders.Pids);
                }
                if (pids.Count == 0) { member.ProvenDown = true; member.Problem += "; no process holds its data dir on " + sh.Node; }
                else member.Problem += $"; process(es) {string.Join(",", pids.Distinct())} hold its data dir on {sh.Node}";
            }
            catch (ClusterDrException ex) { member.Problem += "; its node cannot be asked: " + ex.Message; }
        }

        /// <summary>
        /// Runs the stop command, then waits until the member no longer answers (<paramref name="stillAnswers"/>
        /// returns why it still does, or null) and, on its node, no process holds a file under its data
        /// dirs: a data dir must never move under a live server.
        /// </summary>
        public static void StopAndWait(IRemoteShell sh, string member, string stopCommand, IEnumerable<string> dataDirs,
            Func<string> stillAnswers, IOperationContext ctx, TimeSpan? timeout = null)
        {
            var ct = ctx.Cancellation;
            var limit = timeout ?? TimeSpan.FromSeconds(30);
            var dirs = dataDirs.Where(d => !string.IsNullOrEmpty(d)).Distinct().ToList();
            sh.RunChecked("Stop " + member, stopCommand, ct);
            var deadline = Stopwatch.StartNew();
            string why = null;
            while (deadline.Elapsed < limit)
            {
                Safety.CancellationScope.Effective(ct).ThrowIfCancellationRequested();
                why = stillAnswers();
                if (why == null)
                {
                    var pids = new List<string>();
                    foreach (var dir in dirs)
                    {
                        var holders = FindHolders(sh, dir, ct);
                        if (!holders.Complete)
                        {
                            ctx.WriteWarning($"{sh.Node} cannot show every process (not root, or no /proc): ClusterDR relies on the stop command alone to have stopped {member}.");
                            return;
                        }
                        pids.AddRange(holders.Pids);
                    }
                    if (pids.Count == 0) return;
                    why = $"process(es) {string.Join(",", pids.Distinct())} still hold files in {string.Join(", ", dirs)}";
                }
                Thread.Sleep(250);
            }
            throw new ClusterDrException(ErrorIds.WaitTimedOut, ErrorKind.OperationTimeout, $"{member} {why} {limit.TotalSeconds:0} s after its stop command.", member);
        }

        /// <summary>Where a restore moves <paramref name="dir"/> aside, never to delete it: &lt;dir&gt;.clusterdr-&lt;UTC stamp&gt;.</summary>
        public static string AsidePath(string dir, string stamp) => dir.TrimEnd('/') + ".clusterdr-" + stamp;

        /// <summary>Where the undo of a move aside keeps what had been written in the dir's place: &lt;dir&gt;.clusterdr-failed-&lt;UTC stamp&gt;.</summary>
        public static string FailedPath(string dir, string stamp) => dir.TrimEnd('/') + ".clusterdr-failed-" + stamp;

        /// <summary>Whether <paramref name="dir"/> exists on the node (a read; also under -WhatIf).</summary>
        public static bool Exists(IRemoteShell sh, string dir, CancellationToken ct) =>
            sh.RunChecked("Look for " + dir, $"if [ -e {Sh.Quote(dir)} ]; then echo present; else echo absent; fi", ct).StdOut.Contains("present");

        /// <summary>
        /// Adds the move-aside of <paramref name="dir"/> to a restore plan as the node has it now, so that -WhatIf
        /// lists exactly the moves the real run makes: a dir that exists gets the confirmed step
        /// <paramref name="action"/>; a dir that is already gone (a disaster took it) gets only a check that it is
        /// still absent, whose undo keeps whatever a failed restore wrote there at <see cref="FailedPath"/>.
        /// <paramref name="moved"/> is told the aside path once the dir was moved.
        /// </summary>
        public static void PlanMoveAside(Plan plan, string target, IRemoteShell sh, string dir, string stamp, CancellationToken ct,
            string action, string state, string undoneState, Action<string> moved, string what = "data dir") =>
            PlanMoveAside(plan, target, sh.Node, dir, AsidePath(dir, stamp), () => Exists(sh, dir, ct),
                () => MoveAside(sh, dir, stamp, ct, what), () => PutBack(sh, dir, stamp, ct, what), action, state, undoneState, moved);

        /// <summary>
        /// <see cref="PlanMoveAside(Plan, string, IRemoteShell, string, string, CancellationToken, string, string, string, Action{string}, string)"/>
        /// with the node's answers as functions: <paramref name="exists"/> asks the node now (while planning) and
        /// again in the check; <paramref name="moveAside"/> returns true when there was a dir to move.
        /// </summary>
        public static void PlanMoveAside(Plan plan, string target, string node, string dir, string aside, Func<bool> exists,
            Func<bool> moveAside, Action putBack, string action, string state, string undoneState, Action<string> moved)
        {
            if (exists())
            {
                plan.Add(target, action, () => { if (moveAside()) moved(aside); }, undo: putBack, state: state, undoneState: undoneState);
                return;
            }
            plan.Check(target, $"Check that {dir} is still absent (nothing to move aside)", () =>
            {
                if (exists())
                    throw new ClusterDrException(ErrorIds.RestoreFailed, ErrorKind.InvalidOperation,
                        $"{dir} on {node} appeared after the restore was planned; nothing was written there. Run the restore again.", dir);
            }, undo: putBack, undoneState: undoneState);
        }

        /// <summary>Moves <paramref name="dir"/> to <see cref="AsidePath"/> on the node; true when there was a dir to move.</summary>
        public static bool MoveAside(IRemoteShell sh, string dir, string stamp, CancellationToken ct, string what = "data dir") =>
            sh.RunChecked($"Move {what} aside", MoveAsideScript(dir, AsidePath(dir, stamp)), ct).StdOut.Contains("moved");

        /// <summary>Undo of <see cref="MoveAside"/>: the old dir back in place, whatever replaced it kept at <see cref="FailedPath"/>.</summary>
        public static void PutBack(IRemoteShell sh, string dir, string stamp, CancellationToken ct, string what = "data dir") =>
            sh.RunChecked($"Put the old {what} back", PutBackScript(dir, AsidePath(dir, stamp), FailedPath(dir, stamp)), ct);

        /// <summary>Moves a data dir aside (recording its owner in "aside.owner"); prints "moved" or "absent".</summary>
        public static string MoveAsideScript(string dataDir, string aside) =>
            $"d={Sh.Quote(dataDir)}; a={Sh.Quote(aside)}; " +
            "if [ -e \"$a\" ]; then echo \"$a already exists\" >&2; exit 3; fi; " +
            "if [ -e \"$d\" ]; then stat -c '%u:%g' \"$d\" > \"$a.owner\" 2>/dev/null; mv \"$d\" \"$a\" && echo moved; else echo absent; fi";

        /// <summary>Undo of the move: whatever was written in its place is kept at <paramref name="failed"/>.</summary>
        public static string PutBackScript(string dataDir, string aside, string failed) =>
            $"d={Sh.Quote(dataDir)}; a={Sh.Quote(aside)}; f={Sh.Quote(failed)}; " +
            "if [ -e \"$d\" ]; then mv \"$d\" \"$f\" || exit 1; fi; if [ -e \"$a\" ]; then mv \"$a\" \"$d\" || exit 1; fi; rm -f \"$a.owner\"";

        /// <summary>Gives a rebuilt data dir the owner its moved-aside predecessor had, and forgets that record.</summary>
        public static string RestoreOwnerScript(string dataDir, string aside) =>
            "if [ -s " + Sh.Quote(aside + ".owner") + " ]; then chown -R \"$(cat " + Sh.Quote(aside + ".owner") + ")\" " + Sh.Quote(dataDir) + "; fi; rm -f " + Sh.Quote(aside + ".owner");
    }
}
