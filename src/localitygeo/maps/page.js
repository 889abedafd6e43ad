/* localitygeo map page: draws a map's layers, legend and labels from the
 * page's JSON data (see localitygeo/maps/page.py).
 *
 * This script is a constant: no data is ever part of it. Every text from the
 * data (names, codes, values, titles, column names, the attribution) enters
 * the page through textContent, or HTML-escaped where Leaflet only accepts
 * HTML (the layer control's labels and the attribution line), so it always
 * shows literally and never runs.
 */
(function () {
  "use strict";

  function asText(value) {
    return value === null || value === undefined ? "" : String(value);
  }

  // For Leaflet APIs that set innerHTML: HTML that shows the text literally
  // (a carriage return as a reference, which HTML's parser would read as "\n").
  function escapeHtml(value) {
    var div = document.createElement("div");
    div.textContent = asText(value);
    return div.innerHTML.replace(/\r/g, "&#13;");
  }

  function node(tag, className, text) {
    var el = document.createElement(tag);
    if (className) {
      el.className = className;
    }
    if (text !== undefined) {
      el.textContent = asText(text);
    }
    return el;
  }

  // Layers given as shared arcs (see localitygeo/maps/arcs.py): integers are
  // written five bits to a character, zigzag-signed; the first 32 digits end
  // a number, the others continue it.
  var DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var VALUE = {};
  DIGITS.split("").forEach(function (c, i) {
    VALUE[c] = i;
  });

  function ints(text) {
    var out = [];
    var value = 0;
    var scale = 1;
    for (var i = 0; i < text.length; i++) {
      var d = VALUE[text.charAt(i)];
      if (d === undefined) {
        throw new Error("localitygeo: the map's data is damaged");
      }
      value += (d % 32) * scale;
      if (d < 32) {
        out.push(value % 2 ? -(value + 1) / 2 : value / 2);
        value = 0;
        scale = 1;
      } else {
        scale *= 32;
      }
    }
    return out;
  }

  // Each arc: its number of points, its first point, then differences; on a grid.
  function decodeArcs(data) {
    var t = data.transform;
    var v = ints(data.arcs);
    var arcs = [];
    var i = 0;
    while (i < v.length) {
      var n = v[i++];
      var x = 0;
      var y = 0;
      var arc = [];
      for (var j = 0; j < n; j++) {
        x += v[i++];
        y += v[i++];
        arc.push([t[0] + x * t[2], t[1] + y * t[3]]);
      }
      arcs.push(arc);
    }
    return arcs;
  }

  // A ring from arc references: i is arc i, -1 - i the same arc reversed.
  function ring(arcs, refs) {
    var points = [];
    refs.forEach(function (ref, k) {
      var arc = ref >= 0 ? arcs[ref] : arcs[-1 - ref].slice().reverse();
      points.push.apply(points, k ? arc.slice(1) : arc);
    });
    return points;
  }

  // Units: per unit its polygons, per polygon its rings, per ring its arcs.
  function shapeFeatures(arcs, text) {
    var v = ints(text);
    var i = 0;
    var take = function () {
      return v[i++];
    };
    var features = [];
    while (i < v.length) {
      var polygons = [];
      for (var p = take(); p > 0; p--) {
        var rings = [];
        for (var r = take(); r > 0; r--) {
          var refs = [];
          for (var a = take(); a > 0; a--) {
            refs.push(take());
          }
          rings.push(ring(arcs, refs));
        }
        polygons.push(rings);
      }
      features.push({
        type: "Feature",
        properties: {},
        geometry: polygons.length ? {type: "MultiPolygon", coordinates: polygons} : null
      });
    }
    return features;
  }

  // An outline layer: the arcs that draw it (their count, then index differences).
  function lineFeatures(arcs, text) {
    var v = ints(text);
    var lines = [];
    var id = 0;
    for (var k = 1; k < v.length; k++) {
      id += v[k];
      lines.push(arcs[id]);
    }
    return [{type: "Feature", properties: {}, geometry: {type: "MultiLineString", coordinates: lines}}];
  }

  function detailTable(labels, values) {
    var table = node("table", "localitygeo-detail");
    labels.forEach(function (label, i) {
      var row = table.appendChild(node("tr"));
      var th = row.appendChild(node("th", null, label));
      th.style.cssText = "text-align:left;padding:2px 8px 2px 2px";
      row.appendChild(node("td", null, values[i]));
    });
    return table;
  }

  function addControl(map, position, build) {
    var control = L.control({position: position});
    control.onAdd = function () {
      var div = build();
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    control.addTo(map);
  }

  function drawLayer(map, spec) {
    spec.geojson.features.forEach(function (feature, i) {
      feature.id = i;
    });
    var layer = L.geoJSON(spec.geojson, {
      interactive: spec.interactive,
      style: function (feature) {
        var style = Object.assign({}, spec.style);
        if (spec.fill) {
          style.fillColor = spec.fill.colours[spec.fill.index[feature.id]];
        }
        return style;
      },
      onEachFeature: function (feature, item) {
        if (spec.rows) {
          var content = function () {
            return detailTable(spec.labels, spec.rows[feature.id]);
          };
          if (spec.detail === "popup") {
            item.bindPopup(content);
          } else {
            item.bindTooltip(content, {sticky: Boolean(spec.sticky)});
          }
        }
        if (spec.highlight) {
          item.on("mouseover", function () {
            item.setStyle(spec.highlight);
          });
          item.on("mouseout", function () {
            layer.resetStyle(item);
          });
        }
      }
    });
    if (spec.show) {
      layer.addTo(map);
    }
    return layer;
  }

  function paneTitle(spec) {
    return function () {
      var div = node("div", "localitygeo-pane-title", spec.text);
      div.dataset.side = asText(spec.side);
      div.style.cssText = "background:white;padding:4px 10px;"
        + "font:bold 14px sans-serif;border:1px solid #999;";
      return div;
    };
  }

  function legend(spec) {
    return function () {
      var div = node("div", "localitygeo-legend");
      div.style.cssText = "background:white;padding:8px;font:12px sans-serif;"
        + "border:1px solid #999";
      div.style.maxWidth = "18em";
      div.appendChild(node("strong", null, spec.title));
      if (spec.scale) {
        var scale = div.appendChild(node("div", "localitygeo-legend-scale", spec.scale));
        scale.style.cssText = "margin:2px 0 4px;color:#333;font-style:italic";
      }
      spec.rows.forEach(function (entry) {
        var row = div.appendChild(node("div", "localitygeo-legend-row"));
        var swatch = row.appendChild(node("span"));
        swatch.style.cssText = "display:inline-block;width:14px;height:10px;margin-right:6px";
        swatch.style.background = asText(entry[0]);
        row.appendChild(document.createTextNode(asText(entry[1])));
      });
      if (spec.note) {
        var note = div.appendChild(node("div", null, spec.note));
        note.style.cssText = "margin-top:4px;color:#555";
      }
      return div;
    };
  }

  // Names written on the map: each a text node in a Leaflet divIcon (never HTML).
  function nameLabels(spec) {
    var group = L.layerGroup();
    spec.points.forEach(function (point, i) {
      var text = node("span", "localitygeo-name", spec.texts[i]);
      text.style.cssText = "display:inline-block;transform:translate(-50%,-50%);"
        + "white-space:nowrap;font:bold 12px sans-serif;color:#111;"
        + "text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 3px #fff";
      var icon = L.divIcon({html: text, className: "localitygeo-name-icon", iconSize: null});
      L.marker([point[1], point[0]], {icon: icon, interactive: false, keyboard: false})
        .addTo(group);
    });
    return group;
  }

  function draw(id) {
    var spec = JSON.parse(document.getElementById(id).textContent);
    var map = window[spec.map];
    var base = {};
    map.eachLayer(function (layer) {
      if (layer instanceof L.TileLayer) {
        base.Background = layer;
      }
    });
    if (spec.tilesCredit && map.attributionControl) {
      Object.keys(base).forEach(function (key) {
        map.attributionControl.removeAttribution(base[key].getAttribution());
        base[key].options.attribution = escapeHtml(spec.tilesCredit);
        map.attributionControl.addAttribution(base[key].options.attribution);
      });
    }
    var overlays = {};
    var arcs = spec.arcs ? decodeArcs(spec.arcs) : null;
    spec.layers.forEach(function (layerSpec) {
      if (layerSpec.shapes !== undefined) {
        layerSpec.geojson = {type: "FeatureCollection", features: shapeFeatures(arcs, layerSpec.shapes)};
      } else if (layerSpec.lines !== undefined) {
        layerSpec.geojson = {type: "FeatureCollection", features: lineFeatures(arcs, layerSpec.lines)};
      }
      drawn.push({map: spec.map, name: asText(layerSpec.name), geojson: layerSpec.geojson});
      overlays[escapeHtml(layerSpec.name)] = drawLayer(map, layerSpec);
    });
    if (spec.names) {
      overlays[escapeHtml(spec.names.name)] = nameLabels(spec.names).addTo(map);
    }
    if (spec.pageTitle) {
      document.title = asText(spec.pageTitle);
    }
    if (spec.title) {
      addControl(map, "topright", paneTitle(spec.title));
    }
    if (spec.control) {
      L.control.layers(base, overlays, {collapsed: spec.control.collapsed}).addTo(map);
    }
    if (spec.attribution && map.attributionControl) {
      map.attributionControl.addAttribution(escapeHtml(spec.attribution));
    }
    if (spec.legend) {
      addControl(map, "bottomright", legend(spec.legend));
    }
  }

  // What was drawn, as GeoJSON (for checking a published page in a browser).
  var drawn = [];
  window.localitygeo = {draw: draw, drawn: drawn};
})();
