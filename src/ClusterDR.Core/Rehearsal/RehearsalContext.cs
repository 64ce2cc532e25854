using ClusterDR.Safety;

namespace ClusterDR.Rehearsal
{
    /// <summary>
    /// What a restore procedure sees when a rehearsal runs it on a throwaway server: every step proceeds (it touches only
    /// the scratch dir), and what it says goes to the verbose stream, marked as the rehearsal's, warnings included.
    /// </summary>
    internal sealed class RehearsalContext : IOperationContext
    {
        private readonly IOperationContext _outer;
        public RehearsalContext(IOperationContext outer) { _outer = outer; }

        public Decision ShouldProcess(string target, string action)
        {
            _outer.WriteVerbose($"Rehearsal: {action} ({target}).");
            return Decision.Proceed;
        }

        public void WriteVerbose(string message) => _outer.WriteVerbose("Rehearsal: " + message);
        public void WriteWarning(string message) => _outer.WriteVerbose("Rehearsal: " + message);
        public void WriteDebug(string message) => _outer.WriteDebug(message);
        public void WriteProgress(ProgressInfo progress) => _outer.WriteProgress(progress);
        public System.Threading.CancellationToken Cancellation => _outer.Cancellation;
    }
}
