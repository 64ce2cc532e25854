using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace ClusterDR.Commands
{
    /// <summary>Tab completion for -Kind: the backup kinds ClusterDR writes.</summary>
    public sealed class BackupKindCompleter : IArgumentCompleter
    {
        private static readonly string[] Kinds = { "etcd", "swarm", "zookeeper", "deis-store" };

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
            Kinds.Where(k => k.StartsWith(wordToComplete ?? "", System.StringComparison.OrdinalIgnoreCase)).Select(k => new CompletionResult(k));
    }
}
