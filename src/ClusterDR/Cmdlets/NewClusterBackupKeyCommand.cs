using System.Management.Automation;
using ClusterDR.Encryption;

namespace ClusterDR.Commands
{
    /// <summary>
    /// Creates an age identity file (owner-only, never over an existing file) and returns its recipient, the public key
    /// that Backup- cmdlets encrypt to. The file is what opens the backups: keep it off the cluster, and a copy offline.
    /// </summary>
    [Cmdlet(VerbsCommon.New, "ClusterBackupKey", HelpUri = DocsUri.Base + "New-ClusterBackupKey.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(BackupKeyFile))]
    public sealed class NewClusterBackupKeyCommand : ClusterDrCmdlet
    {
        /// <summary>The identity file to create (age-keygen's format: age -d -i opens backups with it).</summary>
        [Parameter(Mandatory = true, Position = 0)]
        public string Path { get; set; }

        protected override void ProcessRecord() => Run(() =>
        {
            string full = FileSystemPath(Path);
            if (!ShouldProcess(full, "Create an age identity file (owner-only) for encrypted backups")) return;
            WriteObject(BackupKeyFile.Create(full));
        });
    }
}
