// refhub: small progressive enhancements; every page works without them.
document.addEventListener("click", function (e) {
  var btn = e.target.closest("[data-copy]");
  if (!btn) return;
  var field = document.getElementById(btn.getAttribute("data-copy"));
  if (!field) return;
  field.select();
  var done = function () { btn.textContent = "Copied"; setTimeout(function () { btn.textContent = "Copy"; }, 1500); };
  if (navigator.clipboard) { navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); }); }
  else { document.execCommand("copy"); done(); }
});
