using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using ClusterDR.HelpBuilder;
using ClusterDR.Tests.Fixtures;
using Xunit;

namespace ClusterDR.Tests.Contracts
{
    /// <summary>
    /// Checks every cmdlet's metadata without PowerShell: the cmdlet assembly is read with
    /// MetadataLoadContext against PowerShellStandard's reference assembly, never executed.
    /// </summary>
    public sealed class CmdletContractTests : IDisposable
    {
        private static readonly HashSet<string> ApprovedVerbs = new HashSet<string>(new[]
        {
            "Add", "Clear", "Close", "Copy", "Enter", "Exit", "Find", "Format", "Get", "Hide", "Join", "Lock", "Move", "New", "Open", "Optimize",
            "Pop", "Push", "Redo", "Remove", "Rename", "Reset", "Resize", "Search", "Select", "Set", "Show", "Skip", "Split", "Step", "Switch", "Undo",
            "Unlock", "Watch", "Connect", "Disconnect", "Read", "Receive", "Send", "Write", "Backup", "Checkpoint", "Compare", "Compress", "Convert",
            "ConvertFrom", "ConvertTo", "Dismount", "Edit", "Expand", "Export", "Group", "Import", "Initialize", "Limit", "Merge", "Mount", "Out",
            "Publish", "Restore", "Save", "Sync", "Unpublish", "Update", "Debug", "Measure", "Ping", "Repair", "Resolve", "Test", "Trace", "Approve",
            "Assert", "Build", "Complete", "Confirm", "Deny", "Deploy", "Disable", "Enable", "Install", "Invoke", "Register", "Request", "Restart",
            "Resume", "Start", "Stop", "Submit", "Suspend", "Uninstall", "Unregister", "Wait", "Block", "Grant", "Protect", "Revoke", "Unblock", "Unprotect", "Use",
        });
        private static readonly string[] ReadOnlyVerbs = { "Get", "Test", "Select" };

        private readonly MetadataLoadContext _mlc;
        private readonly Assembly _cmdlets;

        public CmdletContractTests()
        {
            string dir = Path.Combine(AppContext.BaseDirectory, "cmdlets");
            var paths = Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")
                .Concat(Directory.GetFiles(dir, "*.dll"))
                .Concat(new[] { "ClusterDR.Core.dll", "Newtonsoft.Json.dll", "ICSharpCode.SharpZipLib.dll" }.Select(f => Path.Combine(AppContext.BaseDirectory, f)));
            _mlc = new MetadataLoadContext(new PathAssemblyResolver(paths.GroupBy(Path.GetFileName).Select(g => g.Last())));
            _cmdlets = _mlc.LoadFromAssemblyPath(Path.Combine(dir, "ClusterDR.dll"));
        }

        public void Dispose() => _mlc.Dispose();

        private sealed record CmdletInfo(Type Type, string Verb, string Noun, bool ShouldProcess, int ConfirmImpact, IList<PropertyInfo> Parameters)
        {
            public string Name => Verb + "-" + Noun;
            public override string ToString() => Name;
        }

        private static CustomAttributeData Attr(MemberInfo m, string name) =>
            m.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.FullName == "System.Management.Automation." + name);

        private IList<CmdletInfo> Cmdlets() => _cmdlets.GetTypes().Select(t => (t, a: Attr(t, "CmdletAttribute"))).Where(x => x.a != null).Select(x =>
        {
            var named = x.a.NamedArguments.ToDictionary(n => n.MemberName, n => n.TypedValue.Value);
            return new CmdletInfo(x.t, (string)x.a.ConstructorArguments[0].Value, (string)x.a.ConstructorArguments[1].Value,
                named.TryGetValue("SupportsShouldProcess", out var sp) && (bool)sp,
                named.TryGetValue("ConfirmImpact", out var ci) ? (int)ci : 2,
                x.t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetCustomAttributesData().Any(a => a.AttributeType.FullName == "System.Management.Automation.ParameterAttribute")).ToList());
        }).OrderBy(c => c.Name).ToList();

        [Fact]
        public void TheModuleHasTheCmdletsOfTheFoundationIssue()
        {
            var names = Cmdlets().Select(c => c.Name).ToArray();
            foreach (var expected in new[] { "Get-ClusterBackup", "Test-ClusterBackup", "Remove-ClusterBackup", "Get-EtcdClusterStatus", "Backup-EtcdSnapshot", "Restore-EtcdSnapshot", "Repair-EtcdMember" })
                Assert.Contains(expected, names);
        }

        [Fact]
        public void EveryCmdletUsesAnApprovedVerbAndDeclaresItsOutputType()
        {
            foreach (var c in Cmdlets())
            {
                Assert.True(ApprovedVerbs.Contains(c.Verb), $"{c.Name}: '{c.Verb}' is not an approved verb");
                Assert.True(Attr(c.Type, "OutputTypeAttribute") != null, $"{c.Name} has no [OutputType]");
            }
        }

        [Fact]
        public void EveryStateChangingCmdletSupportsShouldProcessAndRestoresConfirmHigh()
        {
            // New-ClusterBackupStore only makes an object in memory (like New-PSSessionOption): nothing to confirm.
            foreach (var c in Cmdlets().Where(c => (!ReadOnlyVerbs.Contains(c.Verb) || c.Name == "Test-SwarmClassicFailover") && c.Name != "New-ClusterBackupStore"))
                Assert.True(c.ShouldProcess, $"{c.Name} changes state but lacks SupportsShouldProcess");
            Assert.False(Cmdlets().Single(c => c.Name == "New-ClusterBackupStore").ShouldProcess, "New-ClusterBackupStore changes nothing and should not offer -WhatIf");
            foreach (var c in Cmdlets().Where(c => c.Verb == "Restore" || c.Verb == "Repair" || c.Verb == "Remove"))
                Assert.True(c.ConfirmImpact == 3, $"{c.Name} must be ConfirmImpact High");
            // Test-SwarmClassicFailover is a drill: it stops a manager, so it confirms like every state change.
            foreach (var c in Cmdlets().Where(c => ReadOnlyVerbs.Contains(c.Verb) && c.Name != "Test-SwarmClassicFailover"))
                Assert.False(c.ShouldProcess, $"{c.Name} only reads and should not offer -WhatIf");
        }

        private static Dictionary<string, object> Named(CustomAttributeData a) => a.NamedArguments.ToDictionary(n => n.MemberName, n => n.TypedValue.Value);

        private static IEnumerable<Dictionary<string, object>> ParameterAttrs(PropertyInfo p) =>
            p.GetCustomAttributesData().Where(a => a.AttributeType.FullName == "System.Management.Automation.ParameterAttribute").Select(Named);

        private static string[] Aliases(PropertyInfo p) =>
            p.GetCustomAttributesData().Where(a => a.AttributeType.FullName == "System.Management.Automation.AliasAttribute")
                .SelectMany(a => (IEnumerable<CustomAttributeTypedArgument>)a.ConstructorArguments[0].Value).Select(v => (string)v.Value).OrderBy(x => x).ToArray();

        private static bool Flag(Dictionary<string, object> a, string name) => a.TryGetValue(name, out var v) && (bool)v;

        private static string[] Sets(PropertyInfo p) => ParameterAttrs(p).Select(a => a.TryGetValue("ParameterSetName", out var s) ? (string)s : "__AllParameterSets").ToArray();

        [Fact]
        public void BackupConsumersExpandWildcardsInPathAndBindBackupsFromThePipelineToLiteralPath()
        {
            var consumers = Cmdlets().Where(c => c.Noun == "ClusterBackup" || c.Verb == "Restore" && c.Noun != "DcosBackup").ToList();
            Assert.Equal(new[] { "Copy-ClusterBackup", "Get-ClusterBackup", "Remove-ClusterBackup", "Restore-DeisStore", "Restore-EtcdSnapshot", "Restore-SwarmManager", "Restore-ZkState", "Test-ClusterBackup" },
                consumers.Select(c => c.Name));
            // ClusterBackup objects bind by property name to -LiteralPath only: a backup whose path holds [ ] is never globbed.
            var backupProperties = typeof(ClusterDR.ClusterBackup).GetProperties().Select(p => p.Name).ToHashSet();
            foreach (var c in consumers)
            {
                var path = c.Parameters.Single(p => p.Name == "Path");
                var literal = c.Parameters.SingleOrDefault(p => p.Name == "LiteralPath");
                Assert.True(literal != null, $"{c.Name} has no -LiteralPath");
                Assert.Equal("System.String[]", path.PropertyType.FullName);
                Assert.Equal("System.String[]", literal.PropertyType.FullName);
                foreach (var a in ParameterAttrs(path))
                {
                    Assert.True(Flag(a, "ValueFromPipeline"), $"{c.Name} -Path: strings bind by value");
                    Assert.False(Flag(a, "ValueFromPipelineByPropertyName"), $"{c.Name} -Path must not bind by property name (ClusterBackup.Path would be globbed)");
                    Assert.Equal(0, (int)a["Position"]);
                }
                foreach (var a in ParameterAttrs(literal))
                {
                    Assert.True(Flag(a, "ValueFromPipelineByPropertyName"), $"{c.Name} -LiteralPath: ValueFromPipelineByPropertyName");
                    Assert.False(a.ContainsKey("Position"), $"{c.Name} -LiteralPath is named");
                }
                Assert.Equal(new[] { "FullName", "PSPath" }, Aliases(literal));
                Assert.Contains("FullName", backupProperties);
                Assert.Empty(Sets(path).Intersect(Sets(literal)));
                Assert.DoesNotContain("__AllParameterSets", Sets(path).Concat(Sets(literal)));
            }
        }

        /// <summary>
        /// Where one parameter name means a different thing on purpose. Each entry exempts the named cmdlets from
        /// one facet (Type, Aliases, Validation, Position, or * for all); an entry that no longer differs fails too.
        /// </summary>
        private static readonly (string Parameter, string Facet, string[] Cmdlets, string Reason)[] ParameterExceptions =
        {
            ("Path", "*", new[] { "Backup-DeisStore", "Backup-EtcdSnapshot", "Backup-SwarmManager", "Backup-ZkState" },
                "the directory a new archive is written to (alias Destination): one directory, no wildcards; everywhere else -Path names existing backups"),
            ("Path", "*", new[] { "New-ClusterBackupStore" },
                "the directory a local store is rooted at: one directory, no wildcards, named (its other sets start with -Bucket or -Container)"),
            ("Label", "Validation", new[] { "Get-ClusterBackup" }, "a wildcard filter over existing backups: 'nightly*' must pass, so no name rule"),
            ("Label", "Validation", new[] { "Get-DcosBackup" }, "a prefix filter over the DC/OS backup service's labels, not a new name"),
            ("Label", "*", new[] { "New-DcosBackup" },
                "DC/OS's own label rule (3 to 25 characters, not starting with '..') checked by DcosBackupLabel with the documented ErrorId InvalidBackupLabel; the label is the command's subject (mandatory, position 1 after -Uri)"),
            ("Cluster", "Validation", new[] { "Get-ClusterBackup" }, "a wildcard filter over existing backups, not a name written into a file name"),
            ("Endpoint", "*", new[] { "Get-SwarmClassicManager", "Test-SwarmClassicFailover" },
                "host:port of a classic Swarm manager's Docker API as strings ([uri]'manager1:2375' reads 'manager1' as a scheme), not an etcd client URL"),
            ("Member", "Type", new[] { "Backup-ZkState", "Restore-ZkState" }, "each platform's own member spec (ZkMemberSpec: Id, ClientAddress, DataLogDir; EtcdMemberSpec: Name, PeerUrl, ClientUrl)"),
            ("Member", "Position", new[] { "Backup-ZkState" }, "Backup-ZkState's positional order is the server to stop, the ensemble, the destination"),
            ("Server", "Position", new[] { "Backup-ZkState" }, "Backup-ZkState's positional order is the server to stop, the ensemble, the destination"),
            ("Node", "Position", new[] { "Backup-EtcdSnapshot", "Get-EtcdClusterStatus", "Restore-DeisStore", "Restore-SwarmManager", "Test-SwarmClassicFailover" },
                "position 0 belongs to -Endpoint (etcd, classic Swarm) or to the archive -Path (restores) there, so -Node is named"),
            ("Node", "Aliases", new[] { "Backup-DeisStore", "Restore-DeisStore" }, "also StoreNode, the Deis store's own word, beside -DatabaseNode and -ControllerNode"),
            ("TimeoutSec", "Validation", new[] { "Test-SwarmClassicFailover" }, "bounds a whole failover drill (stop, takeover, start) up to an hour, not one answer (1 to 300 s)"),
            ("WaitTimeoutSec", "Validation", new[] { "Get-DcosBackup", "New-DcosBackup", "Remove-DcosBackup", "Restore-DcosBackup" },
                "the DC/OS backup service's jobs run for hours on a large cluster (up to a day), where a node restart takes minutes (5 to 3600 s)"),
        };

        private static string Facet(PropertyInfo p, string facet)
        {
            switch (facet)
            {
                case "Type":
                    // A cmdlet that takes one (a member to repair, an etcd member to snapshot) takes a scalar of the same type.
                    return (p.PropertyType.IsArray ? p.PropertyType.GetElementType() : p.PropertyType).FullName;
                case "Aliases":
                    return string.Join(",", Aliases(p));
                case "Validation":
                    return string.Join(";", p.GetCustomAttributesData().Where(a => IsValidation(a.AttributeType)).Select(a => a.AttributeType.Name + "(" +
                        string.Join(",", a.ConstructorArguments.Select(x => x.Value).Concat(a.NamedArguments.Select(n => n.MemberName + "=" + n.TypedValue.Value))) + ")").OrderBy(x => x));
                case "Position":
                    // The position where the parameter is positional (a set where it is named does not count).
                    var positions = ParameterAttrs(p).Where(a => a.ContainsKey("Position")).Select(a => (int)a["Position"]).Distinct().OrderBy(x => x).ToArray();
                    return positions.Length == 0 ? "named" : string.Join(",", positions);
                default: throw new ArgumentException(facet);
            }
        }

        private static bool IsValidation(Type t)
        {
            for (; t != null; t = t.BaseType)
                if (t.FullName == "System.Management.Automation.ValidateArgumentsAttribute") return true;
            return false;
        }

        [Fact]
        public void AParameterNameHasTheSameTypeAliasesValidationAndPositionOnEveryCmdlet()
        {
            var all = Cmdlets().SelectMany(c => c.Parameters.Select(p => (Cmdlet: c.Name, Param: p))).GroupBy(x => x.Param.Name).Where(g => g.Count() > 1).ToList();
            var problems = new List<string>();
            foreach (var g in all)
            foreach (var facet in new[] { "Type", "Aliases", "Validation", "Position" })
            {
                var exempt = ParameterExceptions.Where(e => e.Parameter == g.Key && (e.Facet == facet || e.Facet == "*")).SelectMany(e => e.Cmdlets).ToHashSet();
                var values = g.Where(x => !exempt.Contains(x.Cmdlet)).GroupBy(x => Facet(x.Param, facet)).ToList();
                if (values.Count > 1)
                    problems.Add($"-{g.Key} {facet}: " + string.Join(" | ", values.Select(v => $"'{v.Key}' on {string.Join(", ", v.Select(x => x.Cmdlet))}")));
            }
            Assert.True(problems.Count == 0, "Parameters that differ without a listed reason:\n" + string.Join("\n", problems));
            foreach (var e in ParameterExceptions)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Reason));
                var g = all.SingleOrDefault(x => x.Key == e.Parameter);
                Assert.True(g != null, $"exception for -{e.Parameter}: no two cmdlets have it");
                var facets = e.Facet == "*" ? new[] { "Type", "Aliases", "Validation", "Position" } : new[] { e.Facet };
                foreach (var cmdlet in e.Cmdlets)
                {
                    var mine = g.Where(x => x.Cmdlet == cmdlet).Select(x => x.Param).SingleOrDefault();
                    Assert.True(mine != null, $"exception for -{e.Parameter} names {cmdlet}, which has no such parameter");
                    var others = g.Where(x => !e.Cmdlets.Contains(x.Cmdlet)).Select(x => x.Param).ToList();
                    Assert.True(facets.Any(f => others.Any(o => Facet(o, f) != Facet(mine, f))),
                        $"exception for -{e.Parameter} {e.Facet} on {cmdlet} is no longer needed: remove it");
                }
            }
        }

        [Fact]
        public void ValidationErrorsReadAsSentences()
        {
            // ValidatePattern's message shows the raw regex, and PowerShellStandard 5.1 has no ErrorMessage to replace it.
            foreach (var c in Cmdlets())
            foreach (var p in c.Parameters)
                Assert.True(Attr(p, "ValidatePatternAttribute") == null, $"{c.Name} -{p.Name}: use a validation attribute that says what is allowed (ValidateBackupName)");
        }

        [Fact]
        public void DcosBackupCmdletsBindIdAndTheClusterUrlFromThePipeline()
        {
            var dcos = Cmdlets().Where(c => c.Noun == "DcosBackup").ToList();
            Assert.Equal(new[] { "Get-DcosBackup", "New-DcosBackup", "Remove-DcosBackup", "Restore-DcosBackup" }, dcos.Select(c => c.Name));
            foreach (var c in dcos)
            {
                var uri = Attr(c.Parameters.Single(p => p.Name == "Uri"), "ParameterAttribute").NamedArguments.ToDictionary(n => n.MemberName, n => n.TypedValue.Value);
                Assert.True((bool)uri["ValueFromPipelineByPropertyName"], $"{c.Name} -Uri: ValueFromPipelineByPropertyName");
                Assert.Equal("System.Security.SecureString", c.Parameters.Single(p => p.Name == "AcsToken").PropertyType.FullName);
                Assert.Contains(c.Parameters, p => p.Name == "Wait");
                if (c.Verb == "New") continue;
                var id = Attr(c.Parameters.Single(p => p.Name == "Id"), "ParameterAttribute").NamedArguments.ToDictionary(n => n.MemberName, n => n.TypedValue.Value);
                Assert.True(id.TryGetValue("ValueFromPipeline", out var v) && (bool)v, $"{c.Name} -Id: ValueFromPipeline");
                Assert.True(id.TryGetValue("ValueFromPipelineByPropertyName", out var p) && (bool)p, $"{c.Name} -Id: ValueFromPipelineByPropertyName");
            }
        }

        [Fact]
        public void EveryCmdletHasADocsPageListingExactlyItsParametersWithARealExample()
        {
            foreach (var c in Cmdlets())
            {
                var page = Path.Combine(TestEnv.RepoRoot, "docs", "en-US", c.Name + ".md");
                Assert.True(File.Exists(page), $"docs/en-US/{c.Name}.md is missing");
                var text = File.ReadAllText(page);
                var documented = Regex.Matches(text, @"^### -(\w+)\s*$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();
                var declared = c.Parameters.Select(p => p.Name).ToHashSet();
                if (c.ShouldProcess) { declared.Add("WhatIf"); declared.Add("Confirm"); }
                Assert.True(declared.SetEquals(documented),
                    $"{c.Name}: docs list [{string.Join(", ", documented.OrderBy(x => x))}] but the cmdlet has [{string.Join(", ", declared.OrderBy(x => x))}]");
                Assert.Matches(@"(?s)## EXAMPLES.*```powershell[^`]*" + Regex.Escape(c.Name), text);
                Assert.Contains("## SYNOPSIS", text);
                Assert.Contains("Module Name: ClusterDR", text);
            }
            Assert.True(File.Exists(Path.Combine(TestEnv.RepoRoot, "docs", "en-US", "about_ClusterDR.md")), "about_ClusterDR is missing");
        }

        [Fact]
        public void TheManifestExportsExactlyTheCmdletsAndLoadsInBothEditions()
        {
            var psd1 = File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "ClusterDR.psd1"));
            var exported = ModuleManifest.ExportedCmdlets(psd1).OrderBy(x => x).ToArray();
            Assert.Equal(Cmdlets().Select(c => c.Name).OrderBy(x => x).ToArray(), exported);
            Assert.Matches(@"RootModule\s*=\s*'ClusterDR.dll'", psd1);
            Assert.Matches(@"CompatiblePSEditions\s*=\s*@\('Core',\s*'Desktop'\)", psd1);
            Assert.Matches(@"PowerShellVersion\s*=\s*'5.1'", psd1);
            Assert.Matches(@"FunctionsToExport\s*=\s*@\(\)", psd1);
            Assert.Contains("ClusterDR.Format.ps1xml", psd1);
            Assert.Matches(@"ModuleVersion\s*=\s*'" + Regex.Escape(typeof(ClusterDR.ClusterBackup).Assembly.GetName().Version!.ToString(3)) + "'", psd1);
        }

        [Fact]
        public void EveryCmdletsHelpUriIsTheOnlineVersionOfItsPage()
        {
            foreach (var c in Cmdlets())
            {
                var named = Attr(c.Type, "CmdletAttribute").NamedArguments.ToDictionary(n => n.MemberName, n => n.TypedValue.Value);
                var page = CommandPageParser.Parse(File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "docs", "en-US", c.Name + ".md")));
                Assert.Equal($"https://github.com/clusterdr/ClusterDR/blob/main/docs/en-US/{c.Name}.md", page.OnlineVersion);
                Assert.True(named.TryGetValue("HelpUri", out var uri), $"{c.Name} has no HelpUri");
                Assert.Equal(page.OnlineVersion, (string)uri);
            }
        }

        [Fact]
        public void TheAboutTopicsCmdletTableListsEveryExportedCmdlet()
        {
            var exported = ModuleManifest.ExportedCmdlets(File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "ClusterDR.psd1")));
            var table = AboutTopic.TableCmdlets(File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "docs", "en-US", "about_ClusterDR.md")));
            Assert.Equal(28, exported.Count);
            Assert.Empty(exported.Except(table));
            Assert.Empty(table.Except(exported));
        }

        [Fact]
        public void EveryOutputTypeHasADefaultView()
        {
            var format = File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "src", "ClusterDR", "ClusterDR.Format.ps1xml"));
            var types = Cmdlets().SelectMany(c => c.Type.GetCustomAttributesData().Where(a => a.AttributeType.Name == "OutputTypeAttribute"))
                .SelectMany(a => a.ConstructorArguments).SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(x => x.Value) : new[] { arg.Value })
                .OfType<Type>().Select(t => t.FullName).Where(n => n.StartsWith("ClusterDR.")).Distinct().ToList();
            Assert.NotEmpty(types);
            foreach (var t in types.Concat(new[] { "ClusterDR.ClusterMember" }))
                Assert.Contains($"<TypeName>{t}</TypeName>", format);
        }

        [Fact]
        public void NoPublicCmdletTypeNeedsTheEngineToLoad()
        {
            // Import-Module loads every public type of ClusterDR.dll before ModuleInitializer has made lib/ (the engine and
            // its dependencies) findable: such a type may use engine types in signatures and bodies, but may not derive from,
            // implement or lay out (value-type fields) one.
            var runtime = RuntimeEnvironment.GetRuntimeDirectory();
            bool Engine(Type t) => t.Assembly.GetName().Name is var n && n != "ClusterDR" && n != "System.Management.Automation" && !File.Exists(Path.Combine(runtime, n + ".dll"))
                || t.IsGenericType && t.GetGenericArguments().Any(Engine);
            var problems = new List<string>();
            foreach (var t in _cmdlets.GetExportedTypes())
            {
                if (t.BaseType != null && Engine(t.BaseType)) problems.Add($"{t.FullName} derives from {t.BaseType.FullName}");
                problems.AddRange(t.GetInterfaces().Where(Engine).Select(i => $"{t.FullName} implements {i.FullName}"));
                problems.AddRange(t.GetFields(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                    .Where(f => f.FieldType.IsValueType && Engine(f.FieldType)).Select(f => $"{t.FullName}.{f.Name} is a {f.FieldType.FullName}"));
            }
            Assert.True(problems.Count == 0, string.Join("\n", problems));
        }

        [Fact]
        public void TheEngineNeverReferencesPowerShell()
        {
            var core = _mlc.LoadFromAssemblyPath(Path.Combine(AppContext.BaseDirectory, "ClusterDR.Core.dll"));
            Assert.DoesNotContain(core.GetReferencedAssemblies(), r => r.Name == "System.Management.Automation");
            Assert.Contains(_cmdlets.GetReferencedAssemblies(), r => r.Name == "System.Management.Automation");
            Assert.Equal(".NETStandard,Version=v2.0", _cmdlets.GetCustomAttributesData().First(a => a.AttributeType.Name == "TargetFrameworkAttribute").ConstructorArguments[0].Value);
        }
    }
}
