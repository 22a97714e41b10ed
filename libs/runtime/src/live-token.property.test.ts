import { liveTokenFamilies } from "../../../test/bad-input/properties/live-token.js";
import { propertyTests } from "../../../test/bad-input/properties/unit.js";

propertyTests(liveTokenFamilies);
