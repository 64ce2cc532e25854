using System.Threading;

namespace ClusterDR.Safety
{
    /// <summary>What ShouldProcess answered: run the step, skip it because of -WhatIf, or the user said no.</summary>
    public enum Decision { Proceed, WhatIf, Declined }

    /// <summary>
    /// The engine's only window onto the host (ShouldProcess, streams, progress, cancellation).
    /// Cmdlets implement it; tests implement it in plain C#. Every call comes from the thread that
    /// called the engine, because PowerShell's Write* methods must not be used from other threads.
    /// </summary>
    public interface IOperationContext
    {
        Decision ShouldProcess(string target, string action);
        void WriteVerbose(string message);
        void WriteWarning(string message);
        /// <summary>
        /// What runs, for -Debug: each command line a shell runs and each HTTP request line (method and URL).
        /// Never a secret: secrets travel on stdin or in the environment, and URLs carry none.
        /// </summary>
        void WriteDebug(string message);
        void WriteProgress(ProgressInfo progress);
        CancellationToken Cancellation { get; }
    }

    public sealed class ProgressInfo
    {
        public ProgressInfo(string activity, string status, long done, long total, bool completed = false)
        {
            Activity = activity; Status = status; Done = done; Total = total; Completed = completed;
        }
        public string Activity { get; }
        public string Status { get; }
        public long Done { get; }
        /// <summary>Total bytes or items; -1 when unknown.</summary>
        public long Total { get; }
        public bool Completed { get; }
        public int Percent => Total > 0 ? (int)System.Math.Min(100, Done * 100 / Total) : -1;
    }

    /// <summary>A context that runs everything and says nothing: for engine callers outside PowerShell (benchmarks).</summary>
    public sealed class SilentContext : IOperationContext
    {
        public static readonly SilentContext Instance = new SilentContext();
        public Decision ShouldProcess(string target, string action) => Decision.Proceed;
        public void WriteVerbose(string message) { }
        public void WriteWarning(string message) { }
        public void WriteDebug(string message) { }
        public void WriteProgress(ProgressInfo progress) { }
        public CancellationToken Cancellation => CancellationToken.None;
    }
}
