using System;
using System.Collections.Concurrent;
using System.Threading;
using ClusterDR.Safety;

namespace ClusterDR.Transport
{
    /// <summary>
    /// The -Debug lines of Transport: each command line a shell runs and each HTTP request line (method and URL).
    /// An engine operation opens a scope for its context (<c>using var debug = DebugLog.To(ctx);</c>) and every shell
    /// and HTTP client below it writes here without the context being threaded through each call; the scope flows
    /// into the operation's worker tasks (AsyncLocal) and ends with the operation. No scope: no lines.
    /// A line never carries a secret: secrets travel on stdin, in the environment or in headers, and a URL's query and
    /// user info are left out.
    /// </summary>
    public static class DebugLog
    {
        private static readonly AsyncLocal<Scope> Current = new AsyncLocal<Scope>();

        /// <summary>Sends the lines of this flow to <paramref name="ctx"/> until the result is disposed.</summary>
        public static IDisposable To(IOperationContext ctx) => Current.Value = new Scope(ctx, Current.Value);

        /// <summary>
        /// Writes at once on the thread that opened the scope (the context's own thread); a line from a worker task
        /// waits until that thread writes the next line or closes the scope, as PowerShell's Write* allow only that thread.
        /// </summary>
        public static void Write(string line)
        {
            var scope = Current.Value;
            if (scope == null || line == null) return;
            if (Thread.CurrentThread.ManagedThreadId != scope.Thread) { scope.Pending.Enqueue(line); return; }
            scope.Flush();
            scope.Context.WriteDebug(line);
        }

        /// <summary>"node: program arguments" — the command line as the local process (sh, ssh) is started.</summary>
        public static void Command(string node, string commandLine) => Write($"{node}: {commandLine}");

        /// <summary>"HTTP POST http://10.0.0.11:2379/v3/maintenance/status".</summary>
        public static void Http(string method, Uri uri) => Write($"HTTP {method} {Redact(uri)}");

        /// <summary>A URL as a debug line may show it: without user info and query (either could hold a token).</summary>
        public static string Redact(Uri uri)
        {
            if (uri == null) return "";
            if (!uri.IsAbsoluteUri) { string s = uri.OriginalString; int q = s.IndexOf('?'); return q < 0 ? s : s.Substring(0, q) + "?…"; }
            string path = uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
            return string.IsNullOrEmpty(uri.Query) ? path : path + "?…";
        }

        private sealed class Scope : IDisposable
        {
            private readonly Scope _parent;
            private bool _done;

            public Scope(IOperationContext ctx, Scope parent) { Context = ctx; _parent = parent; }

            public IOperationContext Context { get; }
            public int Thread { get; } = System.Threading.Thread.CurrentThread.ManagedThreadId;
            public ConcurrentQueue<string> Pending { get; } = new ConcurrentQueue<string>();

            public void Flush()
            {
                while (Pending.TryDequeue(out string line)) Context.WriteDebug(line);
            }

            public void Dispose()
            {
                if (_done) return;
                _done = true;
                Flush();
                Current.Value = _parent;
            }
        }
    }
}
