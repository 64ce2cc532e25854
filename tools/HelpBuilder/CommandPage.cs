using System.Collections.Generic;
using System.Linq;

namespace ClusterDR.HelpBuilder
{
    /// <summary>One parameter's attributes in some of its parameter sets (one yaml block of its PlatyPS section).</summary>
    public sealed record ParameterEntry(IReadOnlyList<string> Sets, string Type, string Aliases, string AcceptedValues,
        bool Required, string Position, string DefaultValue, string PipelineInput, bool Globbing)
    {
        public bool InSet(string set) => Sets.Contains("(All)") || Sets.Contains(set);
        public bool IsSwitch => Type == "SwitchParameter";
    }

    public sealed class CommandParameter
    {
        public CommandParameter(string name) => Name = name;
        public string Name { get; }
        public List<string> Description { get; } = new();
        public List<ParameterEntry> Entries { get; } = new();
    }

    /// <summary>An INPUTS or OUTPUTS entry: a type name and what it means.</summary>
    public sealed record TypeEntry(string Name, List<string> Description);

    public sealed record Example(string Title, List<string> Code, List<string> Remarks);

    public sealed record RelatedLink(string Text, string Uri);

    /// <summary>A cmdlet's PlatyPS page, read into the parts MAML has.</summary>
    public sealed class CommandPage
    {
        public string Name { get; set; } = "";
        public string HelpFile { get; set; } = "";
        public string OnlineVersion { get; set; } = "";
        public string Synopsis { get; set; } = "";
        public List<string> Description { get; } = new();
        /// <summary>The parameter sets in the order of the SYNTAX section (the default set first).</summary>
        public List<string> SetNames { get; } = new();
        public List<CommandParameter> Parameters { get; } = new();
        public List<TypeEntry> Inputs { get; } = new();
        public List<TypeEntry> Outputs { get; } = new();
        public List<string> Notes { get; } = new();
        public List<Example> Examples { get; } = new();
        public List<RelatedLink> Links { get; } = new();

        /// <summary>What Get-Help -Full would miss: each is a reason to fail the build.</summary>
        public IEnumerable<string> Problems(string expectedName)
        {
            if (Name != expectedName) yield return $"the page's title is '{Name}', not '{expectedName}'";
            if (Synopsis.Length == 0) yield return "no SYNOPSIS";
            if (Description.Count == 0) yield return "no DESCRIPTION";
            if (OnlineVersion.Length == 0) yield return "no 'online version:' in the front matter";
            if (!Examples.Any(e => e.Code.Count > 0)) yield return "no example with code";
            if (Inputs.Count == 0) yield return "no INPUTS";
            if (Outputs.Count == 0) yield return "no OUTPUTS";
            foreach (var p in Parameters)
            {
                if (p.Description.Count == 0) yield return $"-{p.Name} has no description";
                if (p.Entries.Count == 0) yield return $"-{p.Name} has no yaml block (type, position, ...)";
            }
        }
    }
}
