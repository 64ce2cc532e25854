using System.Diagnostics;
using ClusterDR.Safety;

namespace ClusterDR.Backups
{
    /// <summary>Throttles byte progress to a few updates a second: a console shows it, Azure Automation ignores it.</summary>
    public sealed class ProgressReporter
    {
        private readonly IOperationContext _ctx;
        private readonly string _activity;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _lastReport = -1000;

        public ProgressReporter(IOperationContext ctx, string activity, long total)
        {
            _ctx = ctx; _activity = activity; Total = total;
        }

        /// <summary>Bytes expected (0: unknown); a stream that announces its exact size corrects the estimate.</summary>
        public long Total { get; set; }

        /// <summary>Must be called on the engine's calling thread.</summary>
        public void Report(long done)
        {
            long now = _clock.ElapsedMilliseconds;
            if (now - _lastReport < 250) return;
            _lastReport = now;
            string status = Total > 0 ? $"{done / 1048576.0:0.0} of {Total / 1048576.0:0.0} MB" : $"{done / 1048576.0:0.0} MB";
            _ctx.WriteProgress(new ProgressInfo(_activity, status, done, Total));
        }

        public void Complete() => _ctx.WriteProgress(new ProgressInfo(_activity, "Done", Total, Total, completed: true));
    }
}
