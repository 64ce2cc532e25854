using System;
using System.Management.Automation;
using System.Threading;
using ClusterDR.Safety;

namespace ClusterDR.Commands
{
    /// <summary>
    /// Base of every ClusterDR cmdlet: hands the engine an IOperationContext on top of
    /// ShouldProcess/Write*/StopProcessing and turns engine errors into ErrorRecords whose
    /// FullyQualifiedErrorId starts with the stable ErrorId.
    /// </summary>
    /// <remarks>
    /// Import-Module loads every public type of this assembly before ModuleInitializer runs, and ClusterDR.Core can only be
    /// found after it: so no public type here may derive from, implement or hold (as a value-type field) a type of the
    /// engine. The context is therefore an adapter, not an interface of the cmdlet (CmdletContractTests checks this).
    /// </remarks>
    public abstract class ClusterDrCmdlet : PSCmdlet
    {
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private EngineContext _context;

        public CancellationToken Cancellation => _stop.Token;

        /// <summary>What the engine's operations are given: this cmdlet's ShouldProcess, streams and Ctrl+C.</summary>
        internal IOperationContext Context => _context ?? (_context = new EngineContext(this));

        protected override void StopProcessing() => _stop.Cancel();

        // Once Ctrl+C was pressed the pipeline refuses output; the engine may still be undoing a plan,
        // which must not be cut short by a PipelineStoppedException from a progress or verbose line.
        private bool StopRequested => _stop.IsCancellationRequested;

        private sealed class EngineContext : IOperationContext
        {
            private readonly ClusterDrCmdlet _cmdlet;

            public EngineContext(ClusterDrCmdlet cmdlet) { _cmdlet = cmdlet; }

            public CancellationToken Cancellation => _cmdlet.Cancellation;

            public Decision ShouldProcess(string target, string action)
            {
                string description = $"Performing the operation \"{action}\" on target \"{target}\".";
                string warning = "Are you sure you want to perform this action?" + Environment.NewLine + description;
                if (_cmdlet.ShouldProcess(description, warning, "Confirm", out ShouldProcessReason reason)) return Decision.Proceed;
                return reason == ShouldProcessReason.WhatIf ? Decision.WhatIf : Decision.Declined;
            }

            public void WriteVerbose(string message) { if (!_cmdlet.StopRequested) _cmdlet.WriteVerbose(message); }
            public void WriteWarning(string message) { if (!_cmdlet.StopRequested) _cmdlet.WriteWarning(message); }
            public void WriteDebug(string message) { if (!_cmdlet.StopRequested) _cmdlet.WriteDebug(message); }

            public void WriteProgress(ProgressInfo p)
            {
                if (_cmdlet.StopRequested) return;
                var record = new ProgressRecord(Math.Abs(p.Activity.GetHashCode() % 100000) + 1, p.Activity, string.IsNullOrEmpty(p.Status) ? " " : p.Status)
                {
                    PercentComplete = p.Percent,
                    RecordType = p.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
                };
                _cmdlet.WriteProgress(record);
            }
        }

        /// <summary>
        /// Runs engine work; an engine error ends the cmdlet with a terminating ErrorRecord, and so does any
        /// other exception, as UnexpectedError: no bare .NET exception (or library message) reaches the user.
        /// </summary>
        protected void Run(Action work)
        {
            try
            {
                work();
            }
            catch (ClusterDrException ex)
            {
                ThrowTerminatingError(ToErrorRecord(ex));
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // Ctrl+C: PowerShell reports the stop itself.
            }
            catch (Exception ex) when (IsUnexpected(ex))
            {
                ThrowTerminatingError(UnexpectedError(ex));
            }
        }

        /// <summary>
        /// Not ours and not PowerShell's own: its RuntimeExceptions (a pipeline stopped by Ctrl+C or Select-Object
        /// -First, -ErrorAction Stop, a terminating error already written) and flow control (break, exit) pass through.
        /// </summary>
        internal static bool IsUnexpected(Exception ex) =>
            !(ex is ClusterDrException || ex is RuntimeException || ex is FlowControlException);

        internal static ErrorRecord UnexpectedError(Exception ex) =>
            new ErrorRecord(
                new ClusterDrException(ErrorIds.UnexpectedError, ErrorKind.NotSpecified,
                    $"ClusterDR hit an unexpected error ({ex.GetType().FullName}): {ex.Message.TrimEnd('.')}. This is a bug; please report it.", null, ex),
                ErrorIds.UnexpectedError, ErrorCategory.NotSpecified, null);

        /// <summary>Reports an engine error without stopping the pipeline (used per input object).</summary>
        protected void WriteEngineError(ClusterDrException ex) => WriteError(ToErrorRecord(ex));

        internal static ErrorRecord ToErrorRecord(ClusterDrException ex)
        {
            if (!Enum.TryParse(ex.Kind.ToString(), out ErrorCategory category)) category = ErrorCategory.NotSpecified;
            var record = new ErrorRecord(ex, ex.ErrorId, category, ex.Target);
            // ErrorDetails keeps the message as it is and adds what the operator can do about it.
            if (ex.RecommendedAction != null) record.ErrorDetails = new ErrorDetails(ex.Message) { RecommendedAction = ex.RecommendedAction };
            return record;
        }

        /// <summary>
        /// The one backup a restore cmdlet collected from its -Path/-LiteralPath/-Store and pipeline input;
        /// NoBackupGiven or MultipleBackupsForRestore otherwise, before anything is touched.
        /// </summary>
        protected Stores.BackupLocation SingleBackup(System.Collections.Generic.IList<Stores.BackupLocation> paths)
        {
            string name = MyInvocation?.MyCommand?.Name ?? GetType().Name;
            var distinct = System.Linq.Enumerable.ToList(System.Linq.Enumerable.Select(
                System.Linq.Enumerable.GroupBy(paths, p => p.Display, StringComparer.Ordinal), g => System.Linq.Enumerable.First(g)));
            if (distinct.Count == 0)
                throw new ClusterDrException(ErrorIds.NoBackupGiven, ErrorKind.InvalidArgument,
                    $"No backup reached {name} (did Test-ClusterBackup reject it?). Nothing was changed.");
            if (distinct.Count != 1)
                throw new ClusterDrException(ErrorIds.MultipleBackups, ErrorKind.InvalidArgument,
                    $"{name} restores exactly one backup; {distinct.Count} were given. Pick one (Sort-Object CreatedUtc | Select-Object -Last 1).");
            return distinct[0];
        }

        /// <summary>A restore cmdlet's -Path/-LiteralPath input of one pipeline object, resolved (in -Store when given) into the list SingleBackup checks.</summary>
        protected void CollectBackups(System.Collections.Generic.List<Stores.BackupLocation> into, string[] path, string[] literalPath, Stores.BackupStore store)
        {
            foreach (var p in literalPath ?? new string[0]) into.AddRange(BackupLocations(p, literal: true, store));
            foreach (var p in path ?? new string[0]) into.AddRange(BackupLocations(p, literal: false, store));
        }

        /// <summary>
        /// The archives one -Path (wildcards expanded) or -LiteralPath names: files, or with a remote -Store, objects of it.
        /// In a store a path is a key under the store's prefix or the object's whole URI (a ClusterBackup's FullName);
        /// wildcards match the names in its folder.
        /// </summary>
        protected System.Collections.Generic.IList<Stores.BackupLocation> BackupLocations(string path, bool literal, Stores.BackupStore store) =>
            System.Linq.Enumerable.ToList(System.Linq.Enumerable.Select(FindBackups(path, literal, store), l => l.WithKeys(Keyring)));

        /// <summary>The keys that open encrypted backups, for the cmdlets that read them (-DecryptionKeyFile, -DecryptionKey, -Passphrase); null elsewhere.</summary>
        protected virtual Encryption.AgeKeyring Keyring => null;

        private System.Collections.Generic.IList<Stores.BackupLocation> FindBackups(string path, bool literal, Stores.BackupStore store)
        {
            if (!(store is Stores.RemoteStore remote))
                return System.Linq.Enumerable.ToList(System.Linq.Enumerable.Select(BackupPaths(path, literal), p => (Stores.BackupLocation)p));
            string key = remote.KeyOf(path);
            if (literal || !WildcardPattern.ContainsWildcardCharacters(key)) return new[] { new Stores.BackupLocation(remote, key) };
            int slash = key.LastIndexOf('/');
            string folder = slash < 0 ? "" : key.Substring(0, slash + 1);
            var pattern = new WildcardPattern(key.Substring(slash + 1), WildcardOptions.None);
            var found = new System.Collections.Generic.List<Stores.BackupLocation>();
            foreach (var o in remote.ListObjects(folder, Cancellation))
                if (pattern.IsMatch(remote.NameOf(o.Key))) found.Add(new Stores.BackupLocation(remote, o.Key));
            if (found.Count == 0)
                throw new ClusterDrException(ErrorIds.BackupNotFound, ErrorKind.ObjectNotFound,
                    $"No object of {remote.Location} matches '{path}'. [ ] * ? are wildcards in -Path; give a name that contains them with -LiteralPath.", path);
            return found;
        }

        /// <summary>Resolves a PowerShell path (relative, ~, PSDrive) to a file system path.</summary>
        protected string FileSystemPath(string path) => GetUnresolvedProviderPathFromPSPath(path);

        internal string ResolveFileSystemPath(string path) => FileSystemPath(path);

        /// <summary>
        /// The file system paths one -Path (wildcards expanded, like Get-ChildItem) or -LiteralPath (taken as
        /// written) names. A -Path that matches nothing is BackupNotFound; a literal path is checked where it is read.
        /// </summary>
        protected System.Collections.Generic.IList<string> BackupPaths(string path, bool literal)
        {
            if (literal) return new[] { FileSystemPath(path) };
            bool wildcard = WildcardPattern.ContainsWildcardCharacters(path);
            System.Collections.ObjectModel.Collection<string> found = null;
            ProviderInfo provider = null;
            try { found = GetResolvedProviderPathFromPSPath(path, out provider); }
            catch (SessionStateException) { }
            if (found == null || found.Count == 0)
                throw new ClusterDrException(ErrorIds.BackupNotFound, ErrorKind.ObjectNotFound,
                    wildcard
                        ? $"No file matches '{path}'. [ ] * ? are wildcards in -Path; give a name that contains them with -LiteralPath."
                        : $"No backup file or directory at '{path}'.", path);
            if (provider.Name != "FileSystem")
                throw new ClusterDrException(ErrorIds.BackupNotFound, ErrorKind.InvalidArgument,
                    $"'{path}' is on the {provider.Name} provider; backups are files (give a file system path).", path);
            return found;
        }
    }
}
