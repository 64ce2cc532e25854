using System;
using System.Collections.Generic;
using System.Management.Automation;
using ClusterDR.Backups;

namespace ClusterDR.Commands
{
    /// <summary>
    /// Applies a retention policy (restic forget's rules) to the backups piped in and passes on those it does not keep,
    /// each with the reason, so that Get-ClusterBackup | Select-ExpiredClusterBackup … | Remove-ClusterBackup is the
    /// nightly clean-up. It removes nothing itself. -Verbose says for each backup why it is kept or not.
    /// </summary>
    [Cmdlet(VerbsCommon.Select, "ExpiredClusterBackup", HelpUri = DocsUri.Base + "Select-ExpiredClusterBackup.md")]
    [OutputType(typeof(RetentionDecision))]
    public sealed class SelectExpiredClusterBackupCommand : ClusterDrCmdlet
    {
        private readonly List<ClusterBackup> _all = new List<ClusterBackup>();
        private RetentionPolicy _policy;

        /// <summary>Backups from Get-ClusterBackup (or Test-ClusterBackup, which marks them verified): pipe every backup of a cluster, since the policy counts what it is given.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public ClusterBackup[] InputObject { get; set; }

        /// <summary>Keep the newest N backups of each kind and cluster.</summary>
        [Parameter] [ValidateRange(0, int.MaxValue)] public int KeepLast { get; set; }
        /// <summary>Keep the newest backup of each of the last N hours that have one (UTC).</summary>
        [Parameter] [ValidateRange(0, int.MaxValue)] public int KeepHourly { get; set; }
        /// <summary>Keep the newest backup of each of the last N days that have one (UTC).</summary>
        [Parameter] [ValidateRange(0, int.MaxValue)] public int KeepDaily { get; set; }
        /// <summary>Keep the newest backup of each of the last N ISO weeks that have one.</summary>
        [Parameter] [ValidateRange(0, int.MaxValue)] public int KeepWeekly { get; set; }
        /// <summary>Keep the newest backup of each of the last N months that have one.</summary>
        [Parameter] [ValidateRange(0, int.MaxValue)] public int KeepMonthly { get; set; }
        /// <summary>Keep the newest backup of each of the last N years that have one.</summary>
        [Parameter] [ValidateRange(0, int.MaxValue)] public int KeepYearly { get; set; }
        /// <summary>Keep every backup created within this time of its group's newest (e.g. (New-TimeSpan -Days 3) or '3.00:00:00').</summary>
        [Parameter] public TimeSpan KeepWithin { get; set; }

        /// <summary>Let the policy pass on a group's last verified backup when it keeps only unverified ones.</summary>
        [Parameter] public SwitchParameter RemoveLastVerified { get; set; }

        protected override void BeginProcessing() => Run(() =>
        {
            _policy = new RetentionPolicy
            {
                KeepLast = KeepLast, KeepHourly = KeepHourly, KeepDaily = KeepDaily, KeepWeekly = KeepWeekly,
                KeepMonthly = KeepMonthly, KeepYearly = KeepYearly,
                KeepWithin = MyInvocation.BoundParameters.ContainsKey(nameof(KeepWithin)) ? KeepWithin : (TimeSpan?)null,
                RemoveLastVerified = RemoveLastVerified,
            };
            _policy.Validate(); // before any input: a policy that keeps nothing stops here
        });

        protected override void ProcessRecord()
        {
            foreach (var b in InputObject ?? new ClusterBackup[0]) if (b != null) _all.Add(b);
        }

        protected override void EndProcessing() => Run(() =>
        {
            foreach (var d in _policy.Apply(_all))
            {
                WriteVerbose($"{(d.Keep ? "keep  " : "expire")} {d.Name}: {d.Reason}.");
                if (!d.Keep) WriteObject(d);
            }
        });
    }
}
