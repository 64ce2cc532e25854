using System;
using System.Collections.Generic;
using System.Threading;
using ClusterDR.Safety;

namespace ClusterDR.Tests.Fixtures
{
    /// <summary>An IOperationContext that answers ShouldProcess as told and records everything the engine says.</summary>
    internal sealed class RecordingContext : IOperationContext
    {
        public RecordingContext(Decision answer = Decision.Proceed) { Answer = answer; }

        public Decision Answer { get; set; }
        /// <summary>Answer Declined from this ShouldProcess call on (0-based); -1 never.</summary>
        public int DeclineFrom { get; set; } = -1;
        public List<string> Asked { get; } = new List<string>();
        public List<string> Verbose { get; } = new List<string>();
        public List<string> Warnings { get; } = new List<string>();
        public List<string> Debug { get; } = new List<string>();
        public List<ProgressInfo> Progress { get; } = new List<ProgressInfo>();
        public CancellationTokenSource Cts { get; } = new CancellationTokenSource();

        /// <summary>Runs when a step is asked for, before it runs: lets a test change the world between two steps.</summary>
        public System.Action<string, string> OnAsk { get; set; }

        public Decision ShouldProcess(string target, string action)
        {
            Asked.Add(action + " @ " + target);
            OnAsk?.Invoke(target, action);
            if (DeclineFrom >= 0 && Asked.Count > DeclineFrom) return Decision.Declined;
            return Answer;
        }

        public void WriteVerbose(string message) { lock (Verbose) Verbose.Add(message); }
        public void WriteWarning(string message) { lock (Warnings) Warnings.Add(message); }
        public void WriteDebug(string message) { lock (Debug) Debug.Add(message); }
        public void WriteProgress(ProgressInfo progress) { lock (Progress) Progress.Add(progress); OnProgress?.Invoke(progress); }
        /// <summary>Runs on every progress record (e.g. to press Ctrl+C part-way).</summary>
        public Action<ProgressInfo> OnProgress { get; set; }
        public CancellationToken Cancellation => Cts.Token;
    }
}
