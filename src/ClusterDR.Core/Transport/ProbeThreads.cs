using System;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace ClusterDR.Transport
{
    /// <summary>
    /// Runs one blocking status probe per member at once, each on its own thread (inline when there is one), not on
    /// the thread pool: several operations at once (runspaces, a busy runbook worker) starved the pool until a
    /// healthy member's probe timed out, and a guard then refused. An unexpected failure surfaces on the caller.
    /// </summary>
    internal static class ProbeThreads
    {
        public static T[] Run<T>(int count, Func<int, T> probe)
        {
            var results = new T[count];
            var failures = new ExceptionDispatchInfo[count];
            void One(int i)
            {
                try { results[i] = probe(i); }
                catch (Exception ex) { failures[i] = ExceptionDispatchInfo.Capture(ex); }
            }
            if (count == 1) One(0);
            else
            {
                var threads = Enumerable.Range(0, count).Select(i => new Thread(() => One(i)) { IsBackground = true, Name = "ClusterDR probe" }).ToArray();
                foreach (var t in threads) t.Start();
                foreach (var t in threads) t.Join();
            }
            foreach (var f in failures) f?.Throw();
            return results;
        }
    }
}
