using System.Management.Automation;
using System.Security;
using ClusterDR.Swarm;

namespace ClusterDR.Commands
{
    /// <summary>Rotates the swarm's unlock key and returns the new one.</summary>
    [Cmdlet(VerbsData.Update, "SwarmUnlockKey", HelpUri = DocsUri.Base + "Update-SwarmUnlockKey.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NodeSet)]
    [OutputType(typeof(SecureString), typeof(string))]
    public sealed class UpdateSwarmUnlockKeyCommand : SwarmCmdletBase
    {
        [Parameter]
        public SwitchParameter AsPlainText { get; set; }

        /// <summary>Rotate although the manager's swarm has no quorum (the rotation then fails in Docker).</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord() => Run(() =>
        {
            using (var sh = Shell())
            {
                var key = SwarmUnlockKeys.Rotate(sh, Options(), Force, Context);
                if (key != null) WriteObject(AsPlainText ? (object)Secrets.Plain(key) : key);
            }
        });
    }
}
