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
        private static readonly string[] ReadOnlyVerbs = { "Get", "Test" };

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
            foreach (var c in Cmdlets().Where(c => !ReadOnlyVerbs.Contains(c.Verb) || c.Name == "Test-SwarmClassicFailover"))
                Assert.True(c.ShouldProcess, $"{c.Name} changes state but lacks SupportsShouldProcess");
            foreach (var c in Cmdlets().Where(c => c.Verb == "Restore" || c.Verb == "Repair" || c.Verb == "Remove"))
                Assert.True(c.ConfirmImpact == 3, $"{c.Name} must be ConfirmImpact High");
            // Test-SwarmClassicFailover is a drill: it stops a manager, so it confirms like every state change.
            foreach (var c in Cmdlets().Where(c => ReadOnlyVerbs.Contains(c.Verb) && c.Name != "Test-SwarmClassicFailover"))
                Assert.False(c.ShouldProcess, $"{c.Name} only reads and should not offer -WhatIf");
        }

        [Fact]
        public void BackupConsumersBindPathFromThePipelineByValueAndByPropertyName()
        {
            foreach (var c in Cmdlets().Where(c => c.Noun == "ClusterBackup" && c.Verb != "Get" || c.Verb == "Restore" && c.Noun != "DcosBackup"))
            {
                var path = c.Parameters.SingleOrDefault(p => p.Name == "Path");
                Assert.True(path != null, $"{c.Name} has no -Path");
                var a = Attr(path, "ParameterAttribute").NamedArguments.ToDictionary(n => n.MemberName, n => n.TypedValue.Value);
                Assert.True(a.TryGetValue("ValueFromPipeline", out var v) && (bool)v, $"{c.Name} -Path: ValueFromPipeline");
                Assert.True(a.TryGetValue("ValueFromPipelineByPropertyName", out var p) && (bool)p, $"{c.Name} -Path: ValueFromPipelineByPropertyName");
            }
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
            Assert.Equal(24, exported.Count);
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
