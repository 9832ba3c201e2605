// Run in the page by tests.factories.reference_problems: ids that aria-describedby,
// aria-labelledby or a label's for name but the page lacks, and radio buttons outside a
// fieldset with a legend. Returns one line per problem.
() => {
  const out = [];
  for (const el of document.querySelectorAll("[aria-describedby], [aria-labelledby], label[for]")) {
    for (const attr of ["aria-describedby", "aria-labelledby", "for"]) {
      const value = el.getAttribute(attr);
      if (value === null) continue;
      if (!value.trim()) out.push(`${el.tagName.toLowerCase()} has an empty ${attr}`);
      for (const id of value.split(/\s+/).filter(Boolean))
        if (!document.getElementById(id)) out.push(`${el.tagName.toLowerCase()} ${attr} names #${id}, not on the page`);
    }
  }
  for (const radio of document.querySelectorAll("input[type=radio]")) {
    const group = radio.closest("fieldset");
    if (!group || !group.querySelector(":scope > legend"))
      out.push(`radio ${radio.name} is not in a fieldset with a legend`);
  }
  return [...new Set(out)];
}
