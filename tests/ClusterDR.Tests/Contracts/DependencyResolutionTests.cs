using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using ClusterDR.Tests.Fixtures;
using Xunit;

namespace ClusterDR.Tests.Contracts
{
    /// <summary>
    /// Windows PowerShell 5.1 cannot run here, so what it would do with the shipped module is worked out from metadata: every
    /// assembly reference of every assembly the module loads on .NET Framework must resolve there. powershell.exe has no
    /// binding redirects for our dependencies, and a strong-named reference binds only to its exact version; lib/ is not
    /// probed at all. So a reference resolves (a) through the module's AssemblyResolve handler when a file of that name
    /// ships in lib/, whatever version is asked (the Az.Accounts approach, ClusterDR.Commands.DependencyFolder), or (b) to
    /// an assembly that .NET Framework 4.7.2 or Windows PowerShell 5.1 itself provides, listed below; anything else is named.
    /// Reads out/ClusterDR (./build.sh build), or the folder in CLUSTERDR_MODULE_DIR.
    /// </summary>
    public sealed class DependencyResolutionTests
    {
        // .NET Framework 4.7.2 (GAC, unified: a lower version asked binds to this one) with its built-in netstandard 2.0
        // facade, and Windows PowerShell 5.1's System.Management.Automation.
        private static readonly Dictionary<string, Version> NetFramework472 = new Dictionary<string, Version>
        {
            ["mscorlib"] = new Version(4, 0, 0, 0),
            ["netstandard"] = new Version(2, 0, 0, 0),
            ["System"] = new Version(4, 0, 0, 0),
            ["System.Core"] = new Version(4, 0, 0, 0),
            ["System.Xml"] = new Version(4, 0, 0, 0),
            ["System.Xml.Linq"] = new Version(4, 0, 0, 0),
            ["System.Net.Http"] = new Version(4, 2, 0, 0),
            ["System.Numerics"] = new Version(4, 0, 0, 0),
            ["System.Runtime.Serialization"] = new Version(4, 0, 0, 0),
            ["System.Data"] = new Version(4, 0, 0, 0),
            ["System.Management.Automation"] = new Version(3, 0, 0, 0),
        };

        private static string ModuleDir =>
            Environment.GetEnvironmentVariable("CLUSTERDR_MODULE_DIR") is string d && d.Length > 0 ? d : Path.Combine(TestEnv.RepoRoot, "out", "ClusterDR");

        private sealed record Reference(string From, string Name, Version Version);

        private static (string Name, Version Version, List<Reference> References) Read(string file)
        {
            using var pe = new PEReader(File.OpenRead(file));
            var md = pe.GetMetadataReader();
            var def = md.GetAssemblyDefinition();
            string name = md.GetString(def.Name);
            var refs = md.AssemblyReferences.Select(h => md.GetAssemblyReference(h)).Select(r => new Reference(name, md.GetString(r.Name), r.Version)).ToList();
            return (name, def.Version, refs);
        }

        /// <summary>Whether the module's cmdlet assembly carries the handler: an IModuleAssemblyInitializer and the resolve rule.</summary>
        private static bool HasHandler(string moduleDir)
        {
            using var pe = new PEReader(File.OpenRead(Path.Combine(moduleDir, "ClusterDR.dll")));
            var md = pe.GetMetadataReader();
            var types = md.TypeDefinitions.Select(h => md.GetTypeDefinition(h)).ToList();
            bool initializer = types.Any(t => t.GetInterfaceImplementations().Select(i => md.GetInterfaceImplementation(i).Interface)
                .Where(h => h.Kind == HandleKind.TypeReference).Any(h => md.GetString(md.GetTypeReference((TypeReferenceHandle)h).Name) == "IModuleAssemblyInitializer"));
            bool rule = types.Any(t => md.GetString(t.Name) == "DependencyFolder"
                && t.GetMethods().Any(m => md.GetString(md.GetMethodDefinition(m).Name) == "ResolveOnNetFramework"));
            return initializer && rule;
        }

        /// <summary>Every reference of the assemblies Windows PowerShell would load that resolves neither way, as "From -> Name Version".</summary>
        private static List<string> Unresolved(string moduleDir)
        {
            string lib = Path.Combine(moduleDir, "lib");
            bool handler = HasHandler(moduleDir);
            // The cmdlet assembly at the top and everything in lib/; ClusterDR.Isolation is .NET only and never loaded there.
            var files = new[] { Path.Combine(moduleDir, "ClusterDR.dll") }.Concat(Directory.Exists(lib) ? Directory.GetFiles(lib, "*.dll") : Directory.GetFiles(moduleDir, "*.dll")).Distinct().ToList();
            var shipped = files.Select(Read).ToDictionary(a => a.Name, a => a.Version, StringComparer.OrdinalIgnoreCase);
            bool flat = !Directory.Exists(lib);
            var problems = new List<string>();
            foreach (var r in files.Select(Read).SelectMany(a => a.References))
            {
                if (shipped.TryGetValue(r.Name, out var v))
                {
                    // Through the handler any version; without it only a flat module beside ClusterDR.dll at the exact version.
                    if (handler || flat && v == r.Version) continue;
                    problems.Add($"{r.From} -> {r.Name} {r.Version} ({v} ships{(handler ? "" : ", no AssemblyResolve handler")})");
                }
                else if (NetFramework472.TryGetValue(r.Name, out var fx))
                {
                    if (r.Version > fx) problems.Add($"{r.From} -> {r.Name} {r.Version} (.NET Framework 4.7.2 has {fx})");
                }
                else problems.Add($"{r.From} -> {r.Name} {r.Version} (neither shipped nor in .NET Framework 4.7.2)");
            }
            return problems.Distinct().OrderBy(p => p).ToList();
        }

        private static void RequireBuiltModule()
        {
            Assert.True(File.Exists(Path.Combine(ModuleDir, "ClusterDR.dll")), $"{ModuleDir} has no ClusterDR.dll: run ./build.sh build first");
        }

        [Fact]
        public void EveryReferenceOfTheShippedAssembliesResolvesOnNetFramework()
        {
            RequireBuiltModule();
            var problems = Unresolved(ModuleDir);
            Assert.True(problems.Count == 0, "References that Windows PowerShell 5.1 could not resolve:\n" + string.Join("\n", problems));
            Assert.True(Directory.Exists(Path.Combine(ModuleDir, "lib")), "the engine and its dependencies belong in lib/");
        }

        [Fact]
        public void AReferenceToAnAssemblyThatShipsNowhereIsNamed()
        {
            RequireBuiltModule();
            // The same module without System.Memory: the handler has nothing to serve, and .NET Framework has no System.Memory.
            string copy = Path.Combine(Path.GetTempPath(), "clusterdr-resolution-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            try
            {
                Directory.CreateDirectory(Path.Combine(copy, "lib"));
                File.Copy(Path.Combine(ModuleDir, "ClusterDR.dll"), Path.Combine(copy, "ClusterDR.dll"));
                foreach (var f in Directory.GetFiles(Path.Combine(ModuleDir, "lib"), "*.dll").Where(f => Path.GetFileName(f) != "System.Memory.dll"))
                    File.Copy(f, Path.Combine(copy, "lib", Path.GetFileName(f)));
                var problems = Unresolved(copy);
                Assert.Contains("ICSharpCode.SharpZipLib -> System.Memory 4.0.1.1 (neither shipped nor in .NET Framework 4.7.2)", problems);
                Assert.All(problems, p => Assert.Contains("-> System.Memory ", p));
            }
            finally { Directory.Delete(copy, recursive: true); }
        }

        [Fact]
        public void TheShippedDependenciesAskForVersionsThatDoNotShip()
        {
            // Why the handler exists: these mismatches are in the packages themselves. Should they all vanish, the
            // handler could go; should new ones appear, the test above still covers them.
            RequireBuiltModule();
            var shipped = Directory.GetFiles(Path.Combine(ModuleDir, "lib"), "*.dll").Select(Read).ToDictionary(a => a.Name, a => a.Version);
            var mismatched = shipped.Keys.SelectMany(n => Read(Path.Combine(ModuleDir, "lib", n + ".dll")).References)
                .Where(r => shipped.TryGetValue(r.Name, out var v) && v != r.Version).Select(r => $"{r.From} -> {r.Name} {r.Version}").ToList();
            Assert.Contains("ICSharpCode.SharpZipLib -> System.Memory 4.0.1.1", mismatched);
            Assert.Contains("ICSharpCode.SharpZipLib -> System.Threading.Tasks.Extensions 4.2.0.0", mismatched);
            // ZstdSharp.Port brought System.Memory 4.6 and Unsafe 6.0, which older packages ask for by their older versions.
            Assert.Contains("System.Threading.Tasks.Extensions -> System.Runtime.CompilerServices.Unsafe 4.0.4.1", mismatched);
            Assert.Contains("AWSSDK.Core -> System.Memory 4.0.1.2", mismatched);
            Assert.Contains("AWSSDK.Core -> System.Text.Json 6.0.0.0", mismatched);
        }

        [Fact]
        public void TheHandlerServesTheShippedFileWhateverVersionIsAsked()
        {
            var cmdlets = Assembly.LoadFrom(Path.Combine(AppContext.BaseDirectory, "cmdlets", "ClusterDR.dll"));
            var folder = cmdlets.GetType("ClusterDR.Commands.DependencyFolder", throwOnError: true);
            var find = (Func<string, string, string>)folder.GetMethod("Find", BindingFlags.NonPublic | BindingFlags.Static).CreateDelegate(typeof(Func<string, string, string>));
            var resolve = (Func<Func<string, string>, string, Assembly>)folder.GetMethod("ResolveOnNetFramework", BindingFlags.NonPublic | BindingFlags.Static)
                .CreateDelegate(typeof(Func<Func<string, string>, string, Assembly>));
            string dir = AppContext.BaseDirectory;

            // Any version, a full name or a simple one: the file of that simple name.
            Assert.Equal(Path.Combine(dir, "ICSharpCode.SharpZipLib.dll"), find(dir, "ICSharpCode.SharpZipLib, Version=1.0.0.0, Culture=neutral, PublicKeyToken=1b03e6acf1164f73"));
            Assert.Equal(Path.Combine(dir, "Newtonsoft.Json.dll"), find(dir, "Newtonsoft.Json, Version=99.0.0.0, Culture=neutral, PublicKeyToken=30ad4fe6b2a6aeed"));
            Assert.Equal(Path.Combine(dir, "ClusterDR.Core.dll"), find(dir, "ClusterDR.Core"));
            // Names that do not ship there are left to others (null), and a name is never a path.
            Assert.Null(find(dir, "Not.Shipped.Anywhere, Version=1.0.0.0"));
            Assert.Null(find(dir, "../ClusterDR.Core"));

            // The handler hands back the shipped assembly itself for a version that does not exist.
            var served = resolve(n => find(dir, n), "ClusterDR.Core, Version=9.9.9.9, Culture=neutral, PublicKeyToken=null");
            Assert.Same(typeof(ClusterDR.ClusterBackup).Assembly, served);
            Assert.Null(resolve(n => find(dir, n), "Not.Shipped.Anywhere, Version=1.0.0.0"));
        }
    }
}
