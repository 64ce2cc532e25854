using System;
using System.Threading;

namespace ClusterDR.Safety
{
    /// <summary>
    /// Ctrl+C must stop a plan, but the undo that follows has to run to the end: its commands and
    /// requests reuse tokens captured when the plan was built, which are cancelled by then. Inside
    /// <see cref="Suppress"/> (the plan's undo) every place that honours a token asks
    /// <see cref="Effective"/> and gets CancellationToken.None. AsyncLocal, so parallel probes started
    /// during undo see it too.
    /// </summary>
    public static class CancellationScope
    {
        private static readonly AsyncLocal<bool> Suppressed = new AsyncLocal<bool>();

        public static CancellationToken Effective(CancellationToken ct) => Suppressed.Value ? CancellationToken.None : ct;

        public static IDisposable Suppress()
        {
            bool outer = Suppressed.Value;
            Suppressed.Value = true;
            return new Scope(outer);
        }

        private sealed class Scope : IDisposable
        {
            private readonly bool _outer;
            public Scope(bool outer) { _outer = outer; }
            public void Dispose() => Suppressed.Value = _outer;
        }
    }
}
